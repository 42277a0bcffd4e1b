"""What the portal may know about a key: its kind and fingerprint, never the value."""

import hashlib
import re

from audit.redaction import fingerprint

JWT = re.compile(r"^eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}$")
SECRET_KEY = re.compile(r"^sb_secret_[A-Za-z0-9_\-]{8,}$")
LEGACY_NAME = "legacy service_role"  # the target name of a leaked legacy key (no id)
KEY_ID = re.compile(r"^[A-Za-z0-9_\-]{1,100}$")


def key_kind(value: str) -> str:
    """ "secret" (sb_secret_…), "legacy" (a JWT) or "" when it looks like neither."""
    if SECRET_KEY.match(value):
        return "secret"
    if JWT.match(value):
        return "legacy"
    return ""


def key_fingerprint(value: str) -> str:
    return fingerprint(value)


def value_digest(value: str) -> str:
    """The SHA-256 hex digest the Supabase secrets API shows in place of a value."""
    return hashlib.sha256(value.encode()).hexdigest()
