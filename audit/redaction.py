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
            r"sbp_[A-Za-z0-9]{20,}",  # Supabase personal access token (Management API)
            r"https://hooks\.slack\.com/services/[A-Za-z0-9/]+",  # a webhook URL is a secret
            r"(?i:bearer)\s+[A-Za-z0-9_\-.=]{16,}",  # whatever token follows "Bearer"
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


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask the message, the traceback and the stack of one record, in place.

    The traceback is kept as masked text only: handlers that would render the live
    exception (with its frames' local variables) get nothing to render."""
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
    elif record.exc_text:
        record.exc_text = mask_text(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_text(record.stack_info)
    return record


class MaskSecretsFilter(logging.Filter):
    """Logging filter: masks credential-looking strings in every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


def install_log_record_masking() -> None:
    """Mask every log record when it is created, whichever logger or handler it goes to
    (a handler added later, by a library or a test, gets masked records too)."""
    current = logging.getLogRecordFactory()
    if getattr(current, "masks_secrets", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return mask_record(current(*args, **kwargs))

    factory.masks_secrets = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
