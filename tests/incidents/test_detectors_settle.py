"""Detectors that settle: a finding explained by a resolved incident changes nothing, a
recurrence within the cool-down reopens, after it a new incident opens; evidence joins a
hand-opened incident; a cleared condition pauses escalation timers until it returns."""

import datetime as dt

import pytest
from django.utils import timezone

from incidents.detectors import detectors_run_all
from incidents.models import Incident, IncidentStep
from incidents.services import incident_status_set
from incidents.timers import escalations_announce
from tests.incidents.e2e_support import probe_recorded
from vouchers.models import VoucherEvent

pytestmark = pytest.mark.django_db


def _redeemed(voucher, station, at=None):
    VoucherEvent.objects.create(
        voucher=voucher, kind="redeemed", station=station, at=at or timezone.now()
    )


def _run(name):
    return detectors_run_all(only=(name,))[name]


@pytest.fixture
def doubled(station_with_token, voucher_factory):
    station, _ = station_with_token
    voucher = voucher_factory()
    _redeemed(voucher, station, timezone.now() - dt.timedelta(minutes=5))
    _redeemed(voucher, station)
    return voucher, station


def _resolve(incident, user, ago=dt.timedelta(0)):
    incident_status_set(
        incident=incident, status="resolved", actor=user, note="the remaining steps do not apply"
    )
    if ago:
        Incident.objects.filter(pk=incident.pk).update(resolved_at=timezone.now() - ago)


def test_a_resolved_double_redemption_stays_settled_until_the_voucher_is_redeemed_again(
    doubled, ops_user
):
    voucher, station = doubled
    assert _run("double_redemption")["opened"] == 1
    incident = Incident.objects.get()
    _resolve(incident, ops_user)
    for _ in range(3):  # the loop of #17: a new incident every minute, forever
        assert _run("double_redemption")["explained"] == 1
    assert Incident.objects.count() == 1 and Incident.objects.get().status == "resolved"

    _redeemed(voucher, station)  # a third redemption: new, unexplained evidence
    assert _run("double_redemption")["reopened"] == 1
    incident.refresh_from_db()
    assert (incident.status, incident.reopened_count) == ("open", 1)
    assert incident.timeline.filter(kind="reopened").exists()
    assert Incident.objects.count() == 1


def test_a_recurrence_after_the_cool_down_opens_a_new_incident(doubled, ops_user, settings):
    settings.INCIDENT_DETECTOR_COOLDOWN_MINUTES = 30
    voucher, station = doubled
    _run("double_redemption")
    first = Incident.objects.get()
    _resolve(first, ops_user, ago=dt.timedelta(minutes=45))
    _redeemed(voucher, station)
    assert _run("double_redemption")["opened"] == 1
    assert Incident.objects.count() == 2
    first.refresh_from_db()
    assert first.status == "resolved"


def test_a_double_redemption_outside_the_window_is_not_reported(
    station_with_token, voucher_factory
):
    station, _ = station_with_token
    voucher = voucher_factory()
    for days in (3, 2):
        _redeemed(voucher, station, timezone.now() - dt.timedelta(days=days))
    assert _run("double_redemption")["opened"] == 0


def test_a_resolved_incident_naming_the_voucher_explains_it_whatever_its_subject(
    doubled, open_incident, ops_user
):
    voucher, _ = doubled
    by_hand = open_incident(
        "station_redeem", actor=ops_user, impacted=[("vouchers.voucher", voucher.pk, voucher.code)]
    )
    _resolve(by_hand, ops_user)
    assert _run("double_redemption")["explained"] == 1
    assert Incident.objects.count() == 1


def test_a_revoked_token_settles_once_resolved_and_returns_when_used_again(client, ops_user):
    from django.urls import reverse

    from staff.services import api_token_create, api_token_revoke

    issued = api_token_create(user=ops_user)
    api_token_revoke(token=issued.token, actor=ops_user)
    use = lambda: client.get(  # noqa: E731
        reverse("staff-api:me"), headers={"authorization": f"Bearer {issued.plaintext}"}
    )
    use()
    assert _run("revoked_token_use")["opened"] == 1
    _resolve(Incident.objects.get(), ops_user)
    assert _run("revoked_token_use")["explained"] == 1
    use()
    assert _run("revoked_token_use")["reopened"] == 1


def test_a_detector_attaches_its_evidence_to_the_incident_opened_by_hand(
    open_incident, support_user
):
    by_hand = open_incident("whatsapp_send", actor=support_user, title="Customers get no codes")
    probe_recorded("whatsapp", "red")
    assert _run("whatsapp_failures")["attached"] == 1
    assert _run("whatsapp_failures")["existing"] == 1  # it adopted the subject: joined since
    assert Incident.objects.count() == 1
    by_hand.refresh_from_db()
    assert by_hand.dedup_key == "whatsapp" and by_hand.detector == "whatsapp_failures"
    entry = by_hand.timeline.get(kind="evidence_attached")
    assert "send-whatsapp probe red" in entry.message
    assert by_hand.steps.get(key="detected").status == "done"


def test_a_cleared_condition_pauses_escalation_timers_and_they_resume_when_it_returns():
    probe_recorded("whatsapp", "red")
    _run("whatsapp_failures")
    incident = Incident.objects.get()
    step = incident.steps.get(key="notify_provider")
    IncidentStep.objects.filter(pk=step.pk).update(due_at=timezone.now() + dt.timedelta(minutes=5))

    probe_recorded("whatsapp", "green")
    assert _run("whatsapp_failures")["cleared"] == 1
    incident.refresh_from_db()
    assert incident.condition_cleared_at and incident.timers_paused_at
    paused_at = incident.timers_paused_at
    IncidentStep.objects.filter(pk=step.pk).update(due_at=timezone.now() - dt.timedelta(minutes=1))
    assert escalations_announce() == 0  # due, but the condition has cleared

    Incident.objects.filter(pk=incident.pk).update(
        timers_paused_at=paused_at - dt.timedelta(minutes=10)
    )
    probe_recorded("whatsapp", "red")
    assert _run("whatsapp_failures")["existing"] == 1
    incident.refresh_from_db()
    step.refresh_from_db()
    assert incident.condition_cleared_at is None and incident.timers_paused_at is None
    assert step.due_at > timezone.now() + dt.timedelta(minutes=8)  # the 10 min waited added
    assert incident.timeline.filter(kind="timers_resumed").exists()


def test_mitigated_stops_the_timers_and_reopening_resumes_them(open_incident, ops_user):
    incident = open_incident("whatsapp_send")
    IncidentStep.objects.filter(incident=incident, key="notify_provider").update(
        due_at=timezone.now() - dt.timedelta(seconds=1)
    )
    incident_status_set(incident=incident, status="mitigated", actor=ops_user)
    assert escalations_announce() == 0
    incident_status_set(incident=incident, status="open", actor=ops_user)
    IncidentStep.objects.filter(incident=incident, key="notify_provider").update(
        due_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert escalations_announce() == 1
