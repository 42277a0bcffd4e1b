"""Every numbered step of docs/runbooks.md is present, in order, in the engine."""

import re
from pathlib import Path

import pytest

from incidents.runbooks import RUNBOOKS

DOC = Path(__file__).resolve().parents[2] / "docs" / "runbooks.md"
PHASE_NAMES = {
    "detect": "detect",
    "immediate actions": "immediate",
    "mitigation": "mitigation",
    "escalation": "escalation",
    "resolution": "resolution",
    "postmortem inputs": "postmortem",
}


def _norm(text: str) -> str:
    text = re.sub(r"[^a-z0-9 ]+", " ", text.lower().replace("…", " "))
    return " ".join(text.split())


def _parse(doc: str) -> dict[str, list[tuple[str, list[str]]]]:
    runbooks: dict[str, list[tuple[str, list[str]]]] = {}
    current = None
    for raw in doc.splitlines():
        line = raw.strip()
        if line.startswith("## "):
            current = runbooks.setdefault(line[3:].strip(), [])
        elif m := re.match(r"^\d+\. \*\*(.+?)\*\*:?\s*(.*)$", line):
            current.append((PHASE_NAMES[m.group(1).lower()], [m.group(2)] if m.group(2) else []))
        elif line.startswith("- "):
            current[-1][1].append(line[2:])
        elif line and current and current[-1][1]:
            current[-1][1][-1] += " " + line  # wrapped continuation line
    return runbooks


DOCUMENTED = _parse(DOC.read_text()) if DOC.exists() else {}


def test_the_document_was_found_and_has_five_runbooks():
    assert len(DOCUMENTED) == 5
    assert sorted(DOCUMENTED) == sorted(r.title for r in RUNBOOKS.values())


@pytest.mark.parametrize("title", sorted(DOCUMENTED))
def test_phases_and_steps_in_document_order(title):
    runbook = next(r for r in RUNBOOKS.values() if r.title == title)
    assert [p.key for p in runbook.phases] == [phase for phase, _ in DOCUMENTED[title]]
    for (phase, items), defined in zip(DOCUMENTED[title], runbook.phases, strict=True):
        joined = _norm(" ".join(step.text for step in defined.steps))
        position = 0
        for item in items:
            found = joined.find(_norm(item), position)
            assert found >= 0, f"{title} / {phase}: missing or out of order: {item!r}"
            position = found + 1


def test_every_action_and_gate_named_by_a_runbook_exists():
    from incidents.engine.registry import actions_all
    from incidents.gates import gate_get

    actions = actions_all()
    for runbook in RUNBOOKS.values():
        for _, _, _, step in runbook.numbered_steps():
            if step.kind == "action":
                assert step.action in actions, f"{runbook.key}: {step.action}"
            if step.kind == "gate":
                assert gate_get(step.gate)
