"""Escalation timers stop while the incident is mitigated or its condition has cleared, and
resume (due times moved by the time waited) when it is open again or the condition returns —
also when the cause recurs after resolving and the detector reopens the incident."""

import datetime as dt

import pytest
from django.utils import timezone

from incidents.detectors import detectors_run_all
from incidents.models import Incident, IncidentStep
from incidents.services import incident_status_set
from incidents.timers import escalations_announce
from tests.incidents.e2e_support import probe_recorded

pytestmark = pytest.mark.django_db


def _due_in(incident, key, delta):
    IncidentStep.objects.filter(incident=incident, key=key).update(due_at=timezone.now() + delta)


def _whatsapp_detected():
    return detectors_run_all(only=("whatsapp_failures",))["whatsapp_failures"]


def test_mitigated_stops_the_timers_and_reopening_moves_them_by_the_time_waited(
    open_incident, ops_user, step_of
):
    incident = open_incident("whatsapp_send")
    _due_in(incident, "notify_provider", dt.timedelta(minutes=2))
    incident_status_set(incident=incident, status="mitigated", actor=ops_user)
    incident.refresh_from_db()
    assert incident.timers_paused_at is not None
    _due_in(incident, "notify_provider", -dt.timedelta(minutes=1))  # it fell due meanwhile
    assert escalations_announce() == 0

    # Twenty minutes waited while mitigated: the step is due twenty minutes later.
    Incident.objects.filter(pk=incident.pk).update(
        timers_paused_at=timezone.now() - dt.timedelta(minutes=20)
    )
    incident_status_set(incident=incident, status="open", actor=ops_user, note="it is back")
    step = step_of(incident, "notify_provider")
    assert step.due_at > timezone.now() + dt.timedelta(minutes=18)
    assert escalations_announce() == 0
    resumed = incident.timeline.get(kind="timers_resumed")
    assert resumed.data["waited_seconds"] >= 20 * 60
    _due_in(incident, "notify_provider", -dt.timedelta(seconds=1))
    assert escalations_announce() == 1 and escalations_announce() == 0


def test_a_cause_recurring_after_it_cleared_and_resolved_runs_the_timers_again(ops_user):
    probe_recorded("whatsapp", "red")
    _whatsapp_detected()
    incident = Incident.objects.get()
    probe_recorded("whatsapp", "green")
    assert _whatsapp_detected() and Incident.objects.get().condition_cleared_at is not None
    incident_status_set(
        incident=incident, status="resolved", actor=ops_user, note="the provider recovered"
    )
    # Resolved a minute ago (probe times are whole seconds: evidence must be after it).
    Incident.objects.filter(pk=incident.pk).update(
        resolved_at=timezone.now() - dt.timedelta(minutes=1)
    )

    probe_recorded("whatsapp", "red")
    result = _whatsapp_detected()
    assert result["reopened"] == 1, result
    incident.refresh_from_db()
    assert incident.status == "open"
    assert incident.condition_cleared_at is None and incident.timers_paused_at is None
    _due_in(incident, "notify_provider", -dt.timedelta(seconds=1))
    assert escalations_announce() == 1
