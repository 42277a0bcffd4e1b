"""Verification gates: checks with an optional deadline, re-evaluated by a schedule.

registry.py  GateResult and the registry of checks
checks.py    the runbooks' checks (importing this package registers them)
evaluate.py  evaluate one gate or every open one; "Check now" from the incident page
"""

from incidents.gates import checks
from incidents.gates.evaluate import gate_check_now, gate_evaluate, gates_evaluate_all
from incidents.gates.registry import GateResult, gate_check, gate_get

__all__ = [
    "GateResult",
    "checks",
    "gate_check",
    "gate_check_now",
    "gate_evaluate",
    "gate_get",
    "gates_evaluate_all",
]
