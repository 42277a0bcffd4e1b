"""A credential pasted into any text a person writes is masked before it is stored, by the
one redaction function (audit.redaction): incident titles (and the audit entries' target
that copies them), skip notes, void reasons and voucher event data. Through the web."""

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from audit.redaction import mask_text
from incidents.models import Incident, TimelineEntry
from vouchers.models import VoucherEvent

pytestmark = pytest.mark.django_db

KEY = "sb_secret_Zq8c1N3pLx0v4Wd7Yh2Tk5M9"
SECRET = "1N3pLx0v4Wd7Yh2Tk5M9"  # the part that must never be stored


def _stored_anywhere() -> str:
    return repr(
        [
            *Incident.objects.values_list("title"),
            *TimelineEntry.objects.values_list("message", "data"),
            *AuditEntry.objects.values_list("target_repr", "data"),
            *VoucherEvent.objects.values_list("data"),
        ]
    ) + repr([list(i.steps.values_list("note")) for i in Incident.objects.all()])


def _open(client, title):
    response = client.post(
        reverse("admin:incidents_incident_open"),
        {"runbook": "station_redeem", "title": title, "severity": "sev2"},
    )
    assert response.status_code == 302, response.content[:2000]
    return Incident.objects.get()


def test_an_incident_title_is_masked_and_so_is_every_audit_target_copying_it(ops_user, client):
    client.force_login(ops_user)
    incident = _open(client, f"Key {KEY} pasted in #general")
    assert incident.title == f"Key {mask_text(KEY)} pasted in #general"
    opened = AuditEntry.objects.get(action="incident.opened")
    assert mask_text(KEY) in opened.target_repr
    assert SECRET not in _stored_anywhere()


def test_a_skip_note_is_masked(ops_user, client):
    client.force_login(ops_user)
    incident = _open(client, "Redeems failing")
    step = incident.steps.filter(kind="checklist").first()
    url = reverse("admin:incidents_incident_act", args=[incident.pk])
    response = client.post(url, {"op": "skip", "step": step.pk, "note": f"used {KEY} to check"})
    assert response.status_code == 302
    step.refresh_from_db()
    assert step.status == "skipped" and step.note == f"used {mask_text(KEY)} to check"
    assert SECRET not in _stored_anywhere()


def test_a_void_reason_and_the_voucher_event_are_masked(ops_user, client, voucher_factory):
    voucher = voucher_factory()
    client.force_login(ops_user)
    url = reverse("admin:vouchers_voucher_operate", args=[voucher.pk, "void"])
    response = client.post(url, {"reason": f"station pasted {KEY} in the chat", "confirm": "yes"})
    assert response.status_code in (200, 302)
    event = VoucherEvent.objects.get(kind="voided")
    assert event.data["reason"] == f"station pasted {mask_text(KEY)} in the chat"
    assert SECRET not in _stored_anywhere()
