"""Notice a service-role key in our own application logs, before the log is masked.

A logging filter placed ahead of `mask_secrets` on the handlers: it never blocks or edits a
record; when a Supabase secret key or a JWT shows up, it remembers the key's fingerprint
(never the key) in the cache for the credential-leak detector. Use a shared cache
(CACHE_URL=redis://…) when several processes log.
"""

import logging
import re
import time

SIGHTINGS_KEY = "incidents:secret-sightings"
KEEP_SECONDS = 24 * 3600
MAX_SIGHTINGS = 20
SERVICE_ROLE_PATTERNS = re.compile(
    r"sb_secret_[A-Za-z0-9_\-]{8,}|eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"
)


class SecretSightingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not our concern here
            return True
        match = SERVICE_ROLE_PATTERNS.search(message)
        if match:
            try:
                sighting_record(value=match.group(0), logger_name=record.name)
            except Exception:  # the log line must go out whatever happens here
                pass
        return True


def sighting_record(*, value: str, logger_name: str) -> None:
    from django.core.cache import cache

    from audit.redaction import fingerprint

    sightings = cache.get(SIGHTINGS_KEY) or {}
    fp = fingerprint(value)
    if fp not in sightings and len(sightings) < MAX_SIGHTINGS:
        sightings[fp] = {"logger": logger_name, "at": time.time()}
        cache.set(SIGHTINGS_KEY, sightings, KEEP_SECONDS)


def sightings_get() -> dict[str, dict]:
    from django.core.cache import cache

    return cache.get(SIGHTINGS_KEY) or {}
