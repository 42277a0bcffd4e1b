"""Detectors: django-q2 schedules that open incidents, one open incident per runbook+subject.

registry.py         Finding, the registry, the sweep (`detectors_run_all`)
credential_leak.py  revoked staff tokens used, keys in notes and logs
integrations.py     red probes, WhatsApp failure rate, stalled dispatcher
station_redeem.py   double redemptions, idempotency spikes

Importing this package registers every detector (IncidentsConfig.ready() does).
"""

from incidents.detectors import credential_leak, integrations, station_redeem
from incidents.detectors.registry import (
    _DETECTORS,
    Finding,
    detector,
    detectors_run_all,
    finding_open,
)

__all__ = [
    "_DETECTORS",
    "Finding",
    "credential_leak",
    "detector",
    "detectors_run_all",
    "finding_open",
    "integrations",
    "station_redeem",
]
