"""Runbook definitions are data in code; opening an incident copies them into IncidentStep rows."""

from dataclasses import dataclass, field
from datetime import timedelta

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
    # Escalation timers and gate deadlines count from the incident's detection time.
    due_after: timedelta | None = None


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

    def numbered_steps(self):
        """(position, number "2.1", phase, step) in runbook order."""
        position = 0
        for phase_no, phase in enumerate(self.phases, start=1):
            if phase.key not in PHASES:
                raise ValueError(f"{self.key}: unknown phase {phase.key!r}")
            for step_no, step in enumerate(phase.steps, start=1):
                position += 1
                yield position, f"{phase_no}.{step_no}", phase.key, step


# Steps every runbook shares: page on-call when detected, close the page on resolution.
def page_oncall() -> Step:
    return action("pagerduty_trigger", "Page on-call in PagerDuty.", "pagerduty_trigger")


def close_page(text: str = "Close the incident in PagerDuty.") -> Step:
    return action("pagerduty_resolve", text, "pagerduty_resolve")
