"""Station tokens: high-entropy random strings, stored as SHA-256 only."""

import hashlib
import secrets

STATION_TOKEN_PREFIX = "stn_"


def station_token_generate() -> str:
    return STATION_TOKEN_PREFIX + secrets.token_urlsafe(32)


def station_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
