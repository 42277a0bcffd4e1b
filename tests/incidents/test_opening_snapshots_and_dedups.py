import dataclasses

import pytest
from django.core.exceptions import PermissionDenied

from incidents.models import Incident, TimelineEntry
from incidents.runbooks import RUNBOOKS
from incidents.services import incident_open

pytestmark = pytest.mark.django_db


def test_opening_copies_every_runbook_step_in_order(open_incident, support_user):
    incident = open_incident("whatsapp_send", actor=support_user)
    runbook = RUNBOOKS["whatsapp_send"]
    expected = [(n, s.key, s.kind) for _, n, _, s in runbook.numbered_steps()]
    assert [(s.number, s.key, s.kind) for s in incident.steps.all()] == expected
    assert incident.status == "open" and incident.opened_by_name == "sam-support"
    assert TimelineEntry.objects.filter(incident=incident, kind="opened").exists()


def test_escalation_step_is_due_15_minutes_after_detection(open_incident):
    incident = open_incident("whatsapp_send")
    step = incident.steps.get(key="notify_provider")
    assert (step.due_at - incident.detected_at).total_seconds() == 15 * 60


def test_a_later_runbook_edit_does_not_rewrite_an_open_incident(open_incident, monkeypatch):
    incident = open_incident("voucher_preview")
    runbook = RUNBOOKS["voucher_preview"]
    phase = dataclasses.replace(runbook.phases[0], steps=runbook.phases[0].steps[:1])
    edited = dataclasses.replace(runbook, phases=(phase, *runbook.phases[1:]))
    monkeypatch.setitem(RUNBOOKS, "voucher_preview", edited)
    later = open_incident("voucher_preview")
    assert later.steps.count() == incident.steps.count() - 1
    assert incident.steps.filter(key="pagerduty_trigger").exists()


def test_one_open_incident_per_runbook_and_subject(open_incident, ops_user):
    first = open_incident("dispatcher_stall", dedup_key="campaign:7")
    again = open_incident("dispatcher_stall", dedup_key="campaign:7")
    other = open_incident("dispatcher_stall", dedup_key="campaign:8")
    assert again.pk == first.pk and other.pk != first.pk
    from incidents.services import incident_status_set

    incident_status_set(
        incident=first, status="resolved", actor=ops_user, note="the remaining steps do not apply"
    )
    fresh = open_incident("dispatcher_stall", dedup_key="campaign:7")
    assert fresh.pk != first.pk


def test_the_auditor_cannot_open_an_incident(auditor_user):
    with pytest.raises(PermissionDenied):
        incident_open(runbook_key="voucher_preview", actor=auditor_user)
    assert not Incident.objects.exists()
