"""What a detector is, the registry of them, and the sweep the schedule runs."""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from incidents.services.incidents import Impacted, incident_open

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Finding:
    runbook_key: str
    subject: str  # the dedup key
    title: str
    detail: str
    impacted: list[Impacted] = field(default_factory=list)


Detector = Callable[[], list[Finding]]
_DETECTORS: dict[str, Detector] = {}


def detector(name: str) -> Callable[[Detector], Detector]:
    def wrap(func: Detector) -> Detector:
        if name in _DETECTORS:
            raise RuntimeError(f"detector {name!r} registered twice")
        _DETECTORS[name] = func
        return func

    return wrap


def finding_open(finding: Finding):
    """Open (or join) the incident for a finding; returns (incident, created)."""
    return incident_open(
        runbook_key=finding.runbook_key,
        title=finding.title,
        dedup_key=finding.subject,
        detail=finding.detail,
        impacted=finding.impacted,
    )


def detectors_run_all(only: tuple[str, ...] = ()) -> dict:
    summary: dict[str, dict] = {}
    for name, func in list(_DETECTORS.items()):
        if only and name not in only:
            continue
        opened = joined = 0
        try:
            for finding in func():
                _, created = finding_open(finding)
                opened += created
                joined += not created
        except Exception:  # one broken detector must not silence the others
            logger.exception("detector %s failed", name)
            summary[name] = {"error": True}
            continue
        summary[name] = {"opened": opened, "existing": joined}
    return summary
