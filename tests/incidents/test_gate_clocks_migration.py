"""Migration 0008: the unfinished gates of incidents open at upgrade get their clocks, so a
deploy does not let them pass on evidence from before the step they verify."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = ("incidents", "0007_paging_and_links")
AFTER = ("incidents", "0008_gate_clocks")


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    return executor.loader.project_state(target).apps


@pytest.fixture
def back_to_latest():
    """Leave the database at the newest migrations, whatever came after 0008: the tests that
    run next in this worker use every table and column."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_open_incidents_gates_wait_for_their_step_after_the_upgrade(back_to_latest):
    old = _migrate(BEFORE)
    Incident, Step = (
        old.get_model("incidents", "Incident"),
        old.get_model("incidents", "IncidentStep"),
    )
    now = timezone.now()
    gates = {}
    for status in ("open", "resolved"):
        incident = Incident.objects.create(
            runbook_key="dispatcher_stall",
            runbook_title="Campaign Dispatcher Stalls",
            title=status,
            status=status,
            opened_by_name="system",
            detected_at=now,
            opened_at=now,
        )
        gates[status] = Step.objects.create(
            incident=incident,
            position=1,
            phase="resolution",
            number="4.1",
            key="targets_advance",
            kind="gate",
            text="Verify target statuses update within 5 minutes.",
            gate_key="targets_advance",
            status="failed",
            due_at=now,
        )
    new = _migrate(AFTER)
    Step = new.get_model("incidents", "IncidentStep")
    upgraded = Step.objects.get(pk=gates["open"].pk)
    assert (upgraded.clock_after, upgraded.due_after_seconds) == (["replay"], 300)
    assert (upgraded.status, upgraded.due_at) == ("pending", None)
    untouched = Step.objects.get(pk=gates["resolved"].pk)
    assert (untouched.clock_after, untouched.status) == ([], "failed")
