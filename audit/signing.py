"""Checkpoint signatures: Ed25519 (`cryptography`) with a key of their own.

The private key (`AUDIT_SIGNING_KEY`: PEM, or base64 of the 32 raw bytes;
`AUDIT_SIGNING_KEY_FILE` is read first) signs, under its id `AUDIT_SIGNING_KEY_ID`.
Verification needs public keys only: `AUDIT_VERIFY_KEYS` (`id=base64,id2=base64`)
plus the signing key's own, so a key can be replaced while the checkpoints it signed
keep verifying. `SECRET_KEY` plays no part.

With DEBUG and no key configured, a development key is derived from a fixed seed (id
"dev"): anyone can compute it, so it proves nothing. Production (DEBUG=false) without a
key is refused at start-up (system check audit.E001), and a configured key that cannot
be read is refused too (audit.E002).
"""

import base64
import hashlib
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

from audit.verify_export import checkpoint_payload, decode_public_key

DEV_KEY_ID = "dev"
_DEV_SEED = hashlib.sha256(b"opsportal development audit signing key - never in production")


class SigningKeyError(Exception):
    """The signing or a verify key is missing or unreadable (never says what the key is)."""


def _load_private(text: str) -> Ed25519PrivateKey:
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(text, validate=True))
    except (ValueError, TypeError) as exc:
        raise SigningKeyError("AUDIT_SIGNING_KEY is not an Ed25519 private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError("AUDIT_SIGNING_KEY is not an Ed25519 private key")
    return key


@lru_cache(maxsize=4)
def _signing_key(text: str, key_id: str, debug: bool) -> tuple[str, Ed25519PrivateKey]:
    if text:
        if not key_id:
            raise SigningKeyError("AUDIT_SIGNING_KEY_ID is required with AUDIT_SIGNING_KEY")
        return key_id, _load_private(text)
    if debug:
        return DEV_KEY_ID, Ed25519PrivateKey.from_private_bytes(_DEV_SEED.digest())
    raise SigningKeyError("AUDIT_SIGNING_KEY is not set (required unless DEBUG=true)")


def signing_key() -> tuple[str, Ed25519PrivateKey]:
    """(key id, private key) used for new checkpoints."""
    return _signing_key(
        settings.AUDIT_SIGNING_KEY, settings.AUDIT_SIGNING_KEY_ID, bool(settings.DEBUG)
    )


def public_key_text(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def verify_keys() -> dict[str, bytes]:
    """Every public key a checkpoint may be signed with: key id -> 32 raw bytes."""
    keys: dict[str, bytes] = {}
    for key_id, text in settings.AUDIT_VERIFY_KEYS.items():
        try:
            keys[key_id] = decode_public_key(text)
        except ValueError as exc:
            raise SigningKeyError(f"AUDIT_VERIFY_KEYS[{key_id!r}] is not a public key") from exc
    try:
        key_id, private = signing_key()
    except SigningKeyError:
        return keys  # a verifier host may hold public keys only
    keys.setdefault(key_id, decode_public_key(public_key_text(private)))
    return keys


def sign_checkpoint(record: dict) -> str:
    """Base64 Ed25519 signature over the checkpoint's payload (audit/verify_export.py)."""
    _, private = signing_key()
    return base64.b64encode(private.sign(checkpoint_payload(record))).decode()
