"""Bearer tokens: high-entropy random strings, so a plain SHA-256 is a safe stored form."""

import hashlib
import secrets

STAFF_TOKEN_PREFIX = "opsp_"


def token_generate(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
