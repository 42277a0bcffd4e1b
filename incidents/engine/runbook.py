"""What a runbook is: phases of ordered steps, as data in code. Opening an incident copies a
runbook's steps into IncidentStep rows. The runbooks themselves (`incidents/runbooks/`)
register here from their package; services look them up by key."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.exceptions import ValidationError

PHASES = ("detect", "immediate", "mitigation", "escalation", "resolution", "postmortem")
PHASE_LABELS = {
    "detect": "Detect",
    "immediate": "Immediate actions",
    "mitigation": "Mitigation",
    "escalation": "Escalation",
    "resolution": "Resolution",
    "postmortem": "Postmortem inputs",
}


@dataclass(frozen=True)
class Step:
    key: str
    text: str
    kind: str = "checklist"  # checklist | action | gate
    action: str = ""
    gate: str = ""
    params: dict = field(default_factory=dict)
    # Escalation timers count from the incident's detection time; a gate's deadline from
    # when the steps it verifies (`after`, keys of this runbook) have run, else detection.
    due_after: timedelta | None = None
    after: tuple[str, ...] = ()


def checklist(key: str, text: str, **kw) -> Step:
    return Step(key=key, text=text, kind="checklist", **kw)


def action(key: str, text: str, action_key: str, **kw) -> Step:
    return Step(key=key, text=text, kind="action", action=action_key, **kw)


def gate(key: str, text: str, gate_key: str, **kw) -> Step:
    return Step(key=key, text=text, kind="gate", gate=gate_key, **kw)


@dataclass(frozen=True)
class Phase:
    key: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Runbook:
    key: str
    title: str
    phases: tuple[Phase, ...]
    severity: str = "sev2"

    def __post_init__(self) -> None:
        keys = {step.key for phase in self.phases for step in phase.steps}
        for phase in self.phases:
            for step in phase.steps:
                if set(step.after) - keys:
                    raise ValueError(f"{self.key}.{step.key}: `after` names an unknown step")

    def numbered_steps(self) -> Iterator[tuple[int, str, str, Step]]:
        """(position, number "2.1", phase, step) in runbook order."""
        position = 0
        for phase_no, phase in enumerate(self.phases, start=1):
            if phase.key not in PHASES:
                raise ValueError(f"{self.key}: unknown phase {phase.key!r}")
            for step_no, step in enumerate(phase.steps, start=1):
                position += 1
                yield position, f"{phase_no}.{step_no}", phase.key, step


# The registry, in registration order (the order the "Open an incident" form lists them).
RUNBOOKS: dict[str, Runbook] = {}


def runbook_register(runbook: Runbook) -> Runbook:
    if RUNBOOKS.get(runbook.key, runbook) is not runbook:
        raise RuntimeError(f"runbook {runbook.key!r} registered twice")
    RUNBOOKS[runbook.key] = runbook
    return runbook


def runbook_get(key: str) -> Runbook:
    try:
        return RUNBOOKS[key]
    except KeyError:
        raise ValidationError(f"Unknown runbook {key!r}.") from None


def runbooks_all() -> dict[str, Runbook]:
    return dict(RUNBOOKS)
