"""What a gate check is, and the registry of them (filled by incidents.gates.checks)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from incidents.models import Incident


@dataclass(frozen=True)
class GateResult:
    passed: bool
    detail: str


# A check gets the incident and when its clock started (the verified step's finish): only
# evidence from then on counts.
GateCheck = Callable[[Incident, datetime], GateResult]
_GATES: dict[str, GateCheck] = {}


def gate_check(key: str) -> Callable[[GateCheck], GateCheck]:
    def wrap(func: GateCheck) -> GateCheck:
        if key in _GATES:
            raise RuntimeError(f"gate check {key!r} registered twice")
        _GATES[key] = func
        return func

    return wrap


def gate_get(key: str) -> GateCheck:
    return _GATES[key]
