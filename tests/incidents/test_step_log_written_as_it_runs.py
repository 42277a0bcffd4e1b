"""A running step's log reaches the database line by line, so the incident page (another
process, another connection) shows it while the action still runs — not only at the end."""

import threading

import pytest
from django.db import connection

from incidents.engine.execute import run_execute
from incidents.engine.registry import actions_all, register
from incidents.models import IncidentStep, StepRun
from incidents.services import step_run_request

ACTION = "test_log_as_it_runs"


def _seen_from_another_connection(step_id: int) -> str:
    seen: list[str] = []

    def read():
        try:
            run = StepRun.objects.get(step_id=step_id, status=StepRun.Status.RUNNING)
            seen.append(run.log)
        finally:
            connection.close()  # this thread's own connection

    reader = threading.Thread(target=read)
    reader.start()
    reader.join(timeout=30)
    return seen[0] if seen else "<nothing>"


if ACTION not in actions_all():

    @register(ACTION, "Log, then look from outside", tier="safe")
    def _log_then_look(ctx):
        ctx.log("first line: written before the action goes on")
        return {"seen_meanwhile": _seen_from_another_connection(ctx.step.pk)}


@pytest.mark.django_db(transaction=True)
def test_a_running_steps_log_is_in_the_database_before_the_action_ends(open_incident, ops_user):
    incident = open_incident("station_redeem", actor=ops_user)
    step = IncidentStep.objects.create(
        incident=incident,
        position=999,
        phase=incident.steps.first().phase,
        number="9.9",
        key="log_as_it_runs",
        kind=IncidentStep.Kind.ACTION,
        text="A step whose action reads its own log meanwhile",
        action_key=ACTION,
    )
    queued = step_run_request(step=step, actor=ops_user)

    run = run_execute(run_id=queued.pk)

    assert run.status == StepRun.Status.SUCCEEDED, run.error
    assert run.result["seen_meanwhile"] == "first line: written before the action goes on"
    assert run.log.startswith("first line")
