"""Start-up checks for the audit log's keys and anchor store (stable ids; README)."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from audit.anchors import AnchorStoreError, anchor_store
from audit.signing import SigningKeyError, public_key_text, signing_key, verify_keys
from audit.verify_export import decode_public_key


@register(Tags.security)
def check_audit_signing(app_configs, **kwargs):
    if not settings.AUDIT_SIGNING_KEY and not settings.DEBUG:
        return [
            Error(
                "AUDIT_SIGNING_KEY is not set: audit checkpoints cannot be signed.",
                hint="Set AUDIT_SIGNING_KEY (or AUDIT_SIGNING_KEY_FILE) and AUDIT_SIGNING_KEY_ID; "
                "`manage.py audit_keygen` prints a new pair.",
                id="audit.E001",
            )
        ]
    errors = []
    try:
        key_id, private = signing_key()
    except SigningKeyError as exc:
        errors.append(Error(str(exc), id="audit.E002"))
    else:
        configured = settings.AUDIT_VERIFY_KEYS.get(key_id)
        try:
            mismatch = configured and decode_public_key(configured) != decode_public_key(
                public_key_text(private)
            )
        except ValueError:
            mismatch = False  # reported below
        if mismatch:
            errors.append(
                Error(
                    f"AUDIT_VERIFY_KEYS[{key_id!r}] is not the public key of AUDIT_SIGNING_KEY.",
                    hint="A new key needs a new AUDIT_SIGNING_KEY_ID.",
                    id="audit.E003",
                )
            )
    try:
        verify_keys()
    except SigningKeyError as exc:
        errors.append(Error(str(exc), id="audit.E003"))
    return errors


@register(Tags.security)
def check_audit_anchor_store(app_configs, **kwargs):
    try:
        store = anchor_store()
    except AnchorStoreError as exc:
        return [Error(str(exc), id="audit.E004")]
    if store is None and not settings.DEBUG:
        return [
            Warning(
                "AUDIT_ANCHOR_URL is not set: audit checkpoints are kept only in the database, "
                "so a database superuser could rewrite the log unnoticed.",
                hint="Set AUDIT_ANCHOR_URL=s3://bucket/prefix (a bucket with Object Lock in "
                "compliance mode); see README, 'Audit log'.",
                id="audit.W001",
            )
        ]
    return []
