"""Notice a service-role key in our own application logs, before the log is masked.

A logging filter placed ahead of `mask_secrets` on the handlers: it never blocks or edits a
record; when a Supabase secret key or a JWT shows up, it remembers the key's fingerprint
(never the key) in the cache for the credential-leak detector. Use a shared cache
(CACHE_URL=redis://…) when several processes log.
"""

import logging
import re
import time

from django.core.cache import cache

from audit.redaction import fingerprint

SIGHTINGS_KEY = "incidents:secret-sightings"
KEEP_SECONDS = 24 * 3600
MAX_SIGHTINGS = 20
SERVICE_ROLE_PATTERNS = re.compile(
    r"sb_secret_[A-Za-z0-9_\-]{8,}|eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"
)
# Records are usually masked when created (audit.redaction.install_log_record_masking):
# then the mask's fingerprint of a Supabase secret key or a JWT is what we find.
MASKED_SIGHTING = re.compile(r"\[redacted ((?:sb_sec|eyJ[A-Za-z0-9_\-]{3})…[0-9a-f]{12})\]")


class SecretSightingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not our concern here
            return True
        found = [fingerprint_of(m.group(0)) for m in SERVICE_ROLE_PATTERNS.finditer(message)]
        found += [m.group(1) for m in MASKED_SIGHTING.finditer(message)]
        for fp in found[:3]:
            try:
                sighting_record(fp=fp, logger_name=record.name)
            except Exception:  # the log line must go out whatever happens here
                pass
        return True


def fingerprint_of(value: str) -> str:
    return fingerprint(value)


def sighting_record(*, fp: str, logger_name: str) -> None:
    """First sighting (`at`) and the latest (`last_at`, refreshed at most once a minute): a
    key logged again after its incident was resolved is new evidence."""
    sightings = cache.get(SIGHTINGS_KEY) or {}
    now = time.time()
    seen = sightings.get(fp)
    if seen is None and len(sightings) < MAX_SIGHTINGS:
        sightings[fp] = {"logger": logger_name, "at": now, "last_at": now}
    elif seen is not None and now - seen.get("last_at", seen["at"]) >= 60:
        seen.update(last_at=now, logger=logger_name)
    else:
        return
    cache.set(SIGHTINGS_KEY, sightings, KEEP_SECONDS)


def sightings_get() -> dict[str, dict]:
    return cache.get(SIGHTINGS_KEY) or {}
