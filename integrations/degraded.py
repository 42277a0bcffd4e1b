"""Degraded mode forced from outside integrations.

An open incident can keep an integration in degraded mode even while its probe
is green (its runbook says so: fallback until the incident is resolved). The app
that owns the incident registers a check here, the app that calls the integration
asks `degraded_override(key)`; integrations imports neither.
"""

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

# key → checks returning a short reason (e.g. "incident #12 is open") or "" when not forced.
_overrides: dict[str, list[Callable[[], str]]] = {}


def register_degraded_override(key: str, check: Callable[[], str]) -> None:
    checks = _overrides.setdefault(key, [])
    if check not in checks:
        checks.append(check)


def degraded_override(key: str) -> str:
    """Why `key` is forced into degraded mode, or "" when nothing forces it."""
    for check in _overrides.get(key, ()):
        try:
            reason = check()
        except Exception:  # a broken check must not take the page down with it
            logger.exception("degraded-mode check for %s failed", key)
            continue
        if reason:
            return reason
    return ""
