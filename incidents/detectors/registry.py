"""What a detector is, the registry of them, and the sweep the schedule runs.

A detector returns findings for what it sees now, within its window; each finding carries
the time of its newest evidence, so a finding already explained by a resolved incident
changes nothing (incidents.services.detection decides open, join, attach or reopen). A
detector that reads current state (`tracks_condition`) also says when a condition has
cleared: its open incidents it no longer reports wait with their escalation timers.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from incidents.services.detection import (
    Detected,
    detected_summary,
    incident_detected,
    incidents_condition_sweep,
)
from incidents.services.incidents import Impacted

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Finding:
    runbook_key: str
    subject: str  # the dedup key
    title: str
    detail: str
    impacted: list[Impacted] = field(default_factory=list)
    evidence_at: datetime | None = None  # newest evidence; None = seen now


@dataclass(frozen=True)
class Spec:
    window: timedelta | None = None  # how far back the detector looks (its own rule)
    cooldown: timedelta | None = None  # None: INCIDENT_DETECTOR_COOLDOWN_MINUTES
    tracks_condition: bool = False


Detector = Callable[[], list[Finding]]
_DETECTORS: dict[str, Detector] = {}
_SPECS: dict[str, Spec] = {}


def detector(
    name: str,
    *,
    window: timedelta | None = None,
    cooldown: timedelta | None = None,
    tracks_condition: bool = False,
) -> Callable[[Detector], Detector]:
    def wrap(func: Detector) -> Detector:
        if name in _DETECTORS:
            raise RuntimeError(f"detector {name!r} registered twice")
        _DETECTORS[name] = func
        _SPECS[name] = Spec(window=window, cooldown=cooldown, tracks_condition=tracks_condition)
        return func

    return wrap


def detector_spec(name: str) -> Spec:
    return _SPECS.get(name, Spec())


def finding_open(finding: Finding, *, detector: str = ""):
    """Apply a finding; returns (incident or None, outcome)."""
    found = Detected(
        runbook_key=finding.runbook_key,
        subject=finding.subject,
        title=finding.title,
        detail=finding.detail,
        impacted=tuple(finding.impacted),
        evidence_at=finding.evidence_at,
    )
    return incident_detected(
        found=found, detector=detector, cooldown=detector_spec(detector).cooldown
    )


def detectors_run_all(only: tuple[str, ...] = ()) -> dict:
    summary: dict[str, dict] = {}
    for name, func in list(_DETECTORS.items()):
        if only and name not in only:
            continue
        outcomes: list[str] = []
        try:
            findings = func()
            for finding in findings:
                outcomes.append(finding_open(finding, detector=name)[1])
            cleared = 0
            if detector_spec(name).tracks_condition:
                cleared = incidents_condition_sweep(
                    detector=name, seen={f.subject for f in findings}
                )
        except Exception:  # one broken detector must not silence the others
            logger.exception("detector %s failed", name)
            summary[name] = {"error": True}
            continue
        summary[name] = {**detected_summary(outcomes), "cleared": cleared}
    return summary
