"""Guarantees that must hold with real concurrent connections on PostgreSQL."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from incidents.models import Approval, Incident, StepRun
from incidents.services import Impacted, approval_decide, incident_open, step_run_request

pytestmark = pytest.mark.django_db(transaction=True)


def _together(count, fn):
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i):
        try:
            barrier.wait()
            results[i] = fn(i)
        except Exception as exc:  # collected and asserted by the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def test_two_admins_approving_at_once_start_exactly_one_run(ops_user, admin_user, second_admin):
    incident, _ = incident_open(runbook_key="credential_leak")
    step = incident.steps.get(key="invalidate_sessions")
    approval = step_run_request(step=step, actor=ops_user, params={})
    admins = [admin_user, second_admin]
    results = _together(
        2, lambda i: approval_decide(approval=approval, actor=admins[i], approve=True)
    )
    assert sum(isinstance(r, Approval) for r in results) == 1
    assert sum(isinstance(r, ValidationError) for r in results) == 1
    assert StepRun.objects.filter(approval=approval).count() == 1


def test_detectors_racing_for_one_subject_open_one_incident():
    results = _together(
        4,
        lambda i: incident_open(
            runbook_key="dispatcher_stall",
            dedup_key="campaign:42",
            impacted=[Impacted("campaigns.campaign", 42, "x")],
        ),
    )
    assert all(isinstance(r, tuple) for r in results), results
    assert sum(created for _, created in results) == 1
    assert Incident.objects.count() == 1
