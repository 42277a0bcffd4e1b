"""Keep secrets out of the audit log, logs, timelines and error messages.

Two layers: values under a secret-sounding key are replaced whole, and any
string that *looks* like a credential (Supabase secret keys, JWTs, AWS access
keys, Slack tokens, our own staff and station tokens) is masked wherever it
appears. A masked value keeps a short fingerprint so people can still tell two
keys apart without seeing either.
"""

import hashlib
import logging
import re
from typing import Any

MASK = "[redacted]"

SECRET_KEY_NAMES = re.compile(
    r"(secret|token|password|passwd|api[_-]?key|apikey|authorization|credential|private|service[_-]?role)",
    re.IGNORECASE,
)

SECRET_PATTERNS = re.compile(
    "|".join(
        [
            r"sb_secret_[A-Za-z0-9_\-]{8,}",
            r"eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",  # JWT
            r"(?:AKIA|ASIA)[0-9A-Z]{16}",
            r"xox[abpr]-[A-Za-z0-9\-]{8,}",
            r"opsp_[A-Za-z0-9_\-]{16,}",
            r"stn_[A-Za-z0-9_\-]{16,}",
        ]
    )
)


def fingerprint(value: str) -> str:
    """A stable, non-reversible label for a secret: its first 6 characters + SHA-256 prefix."""
    digest = hashlib.sha256(value.encode()).hexdigest()[:12]
    return f"{value[:6]}…{digest}"


def mask_text(text: str) -> str:
    return SECRET_PATTERNS.sub(lambda m: f"[redacted {fingerprint(m.group(0))}]", text)


def redact(value: Any, *, key: str = "") -> Any:
    """A copy of `value` (JSON-like) with secrets masked; safe to store or show."""
    if key and SECRET_KEY_NAMES.search(key) and not key.endswith(("_fingerprint", "_id")):
        return MASK if value not in (None, "") else value
    if isinstance(value, dict):
        return {k: redact(v, key=str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return mask_text(value)
    return value


class MaskSecretsFilter(logging.Filter):
    """Logging filter: masks credential-looking strings in every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the record
            message = str(record.msg)
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True
