"""Station Redeem Anomalies, end to end: a double redemption is detected, the redeem log and
voucher history reviewed, the voucher voided and replaced, scope fixed, Data Ops and vendor
support told, the incident note gate passed, PagerDuty resolved."""

import json

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from audit.models import AuditEntry
from incidents.detectors import detectors_run_all
from incidents.gates import gate_evaluate
from incidents.models import Incident
from incidents.services import incident_note_add, incident_status_set
from tests.incidents.e2e_support import (
    detected_paged_acknowledged,
    resolved_with_postmortem,
    worker_run,
)
from vouchers.models import Voucher, VoucherEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def qcluster_env():
    return {"VENDOR_SUPPORT_EMAIL": "support@vendor.example", "EMAIL_URL": "consolemail://"}


def _redeem(token, code, key):
    return Client().post(
        "/api/station/redeem",
        data=json.dumps({"code": code}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_station_redeem_runbook_end_to_end(
    simulator,
    settings,
    station_with_token,
    voucher_factory,
    support_user,
    ops_user,
    run_step,
    step_of,
):
    settings.VENDOR_SUPPORT_EMAIL = "support@station-vendor.example"
    station, token = station_with_token
    voucher = voucher_factory()
    assert _redeem(token, voucher.code, "k-1").status_code == 200
    assert _redeem(token, "V-OTHER-CODE", "k-1").status_code == 422  # key reused, other body
    # The at-most-once guarantee broke somewhere: a second redemption event was recorded.
    VoucherEvent.objects.create(
        voucher=voucher, kind="redeemed", station=station, at=timezone.now()
    )

    detectors_run_all(only=("double_redemption",))
    incident = Incident.objects.get(runbook_key="station_redeem")
    assert incident.impacted.get().object_id == str(voucher.pk)

    logs = run_step(incident, "redeem_logs", support_user, voucher_codes="V-OTHER-CODE")
    assert "idempotency_key_reused" in logs.log and logs.result["failures"] == 1
    review = run_step(incident, "voucher_review", support_user)
    assert "DOUBLE REDEMPTION" in review.log

    # A note from before the mitigation is not the resolution note the gate asks for.
    incident_note_add(incident=incident, text="Looking into it.", actor=support_user)
    early = gate_evaluate(step=step_of(incident, "note"))
    assert (
        early.status == "pending" and early.last_check_detail == "waiting for step 3.1, 3.2 to run"
    )

    replaced = run_step(incident, "void_replace", ops_user, reason="double redemption")
    voucher.refresh_from_db()
    assert replaced.status == "succeeded" and voucher.status == "void"
    replacement = voucher.replaced_by
    assert replacement is not None and replacement.amount == voucher.amount
    again = run_step(incident, "void_replace", ops_user, reason="double redemption")
    assert again.result["replacement"] == replacement.code  # idempotent: no second replacement
    assert Voucher.objects.count() == 2

    run_step(
        incident,
        "scope",
        ops_user,
        voucher_code=replacement.code,
        station_codes=station.code,
        reason="OCR mapped the wrong station",
    )
    assert list(replacement.station_scope.values_list("code", flat=True)) == [station.code]

    run_step(incident, "data_ops", ops_user)
    assert any(c["body"]["channel"] == "#data-ops" for c in simulator.calls("slack"))

    gate = gate_evaluate(step=step_of(incident, "note"))
    assert gate.status == "pending" and gate.last_check_detail.startswith("0 note(s) since")
    incident_note_add(
        incident=incident, text="Vendor confirms scanner firmware bug.", actor=support_user
    )
    assert gate_evaluate(step=gate).status == "done"
    run_step(incident, "vendor_support", ops_user, text="Double redemption at KGL-001.")
    assert mail.outbox[-1].to == ["support@station-vendor.example"]

    run_step(incident, "pagerduty_resolve", ops_user)
    # With the REST key: the incident is looked up by its key (this one was never paged).
    search = simulator.calls("pagerduty", "GET")[-1]["query"]
    assert search["incident_key"] == f"opsportal-incident-{incident.pk}"
    incident_status_set(
        incident=incident,
        status="resolved",
        actor=ops_user,
        note="the remaining steps do not apply",
    )
    assert AuditEntry.objects.filter(action="voucher.replaced", target_id=str(voucher.pk)).exists()
    incident.refresh_from_db()
    assert f"{replacement.code} (replacement)" in incident.postmortem_markdown


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_station_redeem_from_a_double_redemption_with_a_worker(
    simulator,
    qcluster,
    client,
    webhook_secret,
    station_with_token,
    voucher_factory,
    support_user,
    ops_user,
):
    """A double redemption → detector → page + Slack → signed acknowledgement → reviews by
    support, void-and-replace and scope by ops, run by the qcluster → the note gate only
    after the mitigation → vendor told → resolve."""
    station, token = station_with_token
    voucher = voucher_factory()
    assert _redeem(token, voucher.code, "k-1").status_code == 200
    VoucherEvent.objects.create(
        voucher=voucher, kind="redeemed", station=station, at=timezone.now()
    )
    incident = detected_paged_acknowledged(
        simulator, qcluster, client, detector="double_redemption", runbook="station_redeem"
    )
    assert worker_run(qcluster, incident, "redeem_logs", support_user).status == "succeeded"
    review = worker_run(qcluster, incident, "voucher_review", support_user)
    assert "DOUBLE REDEMPTION" in review.log
    incident_note_add(incident=incident, text="Two redemptions at KGL-001.", actor=support_user)
    gate = gate_evaluate(step=incident.steps.get(key="note"))
    assert gate.status == "pending" and gate.last_check_detail == "waiting for step 3.1, 3.2 to run"

    replaced = worker_run(qcluster, incident, "void_replace", ops_user, reason="double redemption")
    voucher.refresh_from_db()
    assert replaced.status == "succeeded" and voucher.status == "void" and voucher.replaced_by
    scope = worker_run(
        qcluster,
        incident,
        "scope",
        ops_user,
        voucher_code=voucher.replaced_by.code,
        station_codes=station.code,
        reason="OCR mapped the wrong station",
    )
    assert scope.status == "succeeded"
    gate = gate_evaluate(step=incident.steps.get(key="note"))  # the early note does not count
    assert gate.status == "pending" and gate.last_check_detail.startswith("0 note(s) since")
    incident_note_add(incident=incident, text="Voided and replaced.", actor=support_user)
    assert gate_evaluate(step=incident.steps.get(key="note")).status == "done"

    told = worker_run(qcluster, incident, "vendor_support", ops_user, text="Double redemption.")
    assert told.status == "succeeded" and told.result
    assert worker_run(qcluster, incident, "pagerduty_resolve", ops_user).status == "succeeded"
    markdown = resolved_with_postmortem(simulator, qcluster, incident, ops_user)
    assert "Gate 5.1 passed" in markdown and f"{voucher.replaced_by.code} (replacement)" in markdown
