"""Voucher Preview Failures, end to end against the simulator: detector → actions → gate →
PagerDuty resolve → postmortem."""

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from incidents.detectors import detectors_run_all
from incidents.gates import gate_evaluate
from incidents.models import Incident
from incidents.services import incident_acknowledge, incident_status_set, incident_step_complete
from integrations.status import status_get
from tests.incidents.e2e_support import (
    detected_paged_acknowledged,
    resolved_with_postmortem,
    worker_run,
)

pytestmark = pytest.mark.django_db


def test_voucher_preview_runbook_end_to_end(
    simulator, settings, support_user, ops_user, client_for, run_step, step_of
):
    settings.INTEGRATIONS_READ_TIMEOUT = 2
    simulator.set_fault("voucher_png", status=503)
    assert (
        next(i for i in status_get(force=True)["integrations"] if i["key"] == "voucher_png")[
            "state"
        ]
        == "red"
    )

    # Detect: the detector opens one incident, and only one however often it runs.
    assert detectors_run_all(only=("voucher_png_red",))["voucher_png_red"]["opened"] == 1
    assert detectors_run_all(only=("voucher_png_red",))["voucher_png_red"]["existing"] == 1
    incident = Incident.objects.get(runbook_key="voucher_preview")
    assert step_of(incident, "detected").status == "done"
    incident_acknowledge(incident=incident, actor=support_user)
    assert run_step(incident, "pagerduty_trigger", ops_user).status == "succeeded"

    # Immediate: EF deployment status and a forced re-probe — safe steps, support runs them.
    status = run_step(incident, "ef_status", support_user)
    assert status.status == "succeeded" and "voucher-png: ACTIVE, version 3" in status.log
    reprobe = run_step(incident, "reprobe", support_user)
    assert "voucher_png: red" in reprobe.log

    # Mitigation: tell support in #ops with the runbook's words; the degraded copy shows.
    assert run_step(incident, "tell_support", ops_user).status == "succeeded"
    posts = [c for c in simulator.calls("slack") if c["path"].endswith("chat.postMessage")]
    assert any(
        "Voucher previews unavailable; fallback to code view." in c["body"]["text"]
        and c["body"]["channel"] == "#ops"
        for c in posts
    )
    page = client_for(support_user).get(reverse("admin:index")).content.decode()
    assert "Voucher previews unavailable; fallback to code view." in page
    incident_step_complete(step=step_of(incident, "degraded_copy"), actor=support_user, note="seen")

    # Resolution: the gate stays shut while the EF fails, opens once previews render again.
    incident_step_complete(step=step_of(incident, "redeploy"), actor=support_user, note="EF fixed")
    assert gate_evaluate(step=step_of(incident, "preview_works")).status == "pending"
    simulator.clear_faults()
    run_step(incident, "reprobe", support_user)
    assert gate_evaluate(step=step_of(incident, "preview_works")).status == "done"
    assert run_step(incident, "pagerduty_resolve", ops_user).status == "succeeded"
    events = [c["body"] for c in simulator.calls("pagerduty_events")]
    assert [e["event_action"] for e in events] == ["trigger"]  # closed through REST:
    [page] = simulator.state()["pagerduty_incidents"]
    assert page["incident_key"] == f"opsportal-incident-{incident.pk}"
    assert page["status"] == "resolved" and page["notes"]

    incident_status_set(
        incident=incident,
        status="resolved",
        actor=ops_user,
        note="the remaining steps do not apply",
    )
    incident.refresh_from_db()
    page = client_for(support_user).get(reverse("admin:index")).content.decode()
    assert "Voucher previews unavailable; fallback to code view." not in page
    markdown = incident.postmortem_markdown
    for text in ("Time to resolve", "`slack_post`", "`pagerduty_resolve`", "Gate 4.2 passed"):
        assert text in markdown
    assert (
        AuditEntry.objects.filter(incident_id=incident.pk, action="incident.step_run").count() == 6
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_voucher_preview_from_a_fault_with_a_worker(
    simulator, qcluster, client, webhook_secret, support_user, ops_user, settings
):
    """Fault → detector → page + Slack → signed acknowledgement → steps run by the qcluster
    as support/ops → the gate only after the redeploy, on a probe from after it → resolve."""
    settings.INTEGRATIONS_READ_TIMEOUT = 2
    simulator.set_fault("voucher_png", status=503)
    status_get(force=True)
    incident = detected_paged_acknowledged(
        simulator, qcluster, client, detector="voucher_png_red", runbook="voucher_preview"
    )
    assert worker_run(qcluster, incident, "ef_status", support_user).status == "succeeded"
    assert "voucher_png: red" in worker_run(qcluster, incident, "reprobe", support_user).log
    assert worker_run(qcluster, incident, "tell_support", ops_user).status == "succeeded"
    incident_step_complete(
        step=incident.steps.get(key="degraded_copy"), actor=support_user, note="banner seen"
    )

    simulator.clear_faults()
    status_get(force=True)  # green already, but nobody has redeployed: the gate waits
    gate = gate_evaluate(step=incident.steps.get(key="preview_works"))
    assert gate.status == "pending" and gate.last_check_detail == "waiting for step 4.1 to run"
    simulator.set_fault("voucher_png", status=503)
    incident_step_complete(
        step=incident.steps.get(key="redeploy"), actor=support_user, note="EF redeployed"
    )
    gate = gate_evaluate(step=incident.steps.get(key="preview_works"))  # probed after 4.1
    assert gate.status == "pending" and "voucher_png red" in gate.last_check_detail
    simulator.clear_faults()
    assert "voucher_png: green" in worker_run(qcluster, incident, "reprobe", support_user).log
    assert gate_evaluate(step=incident.steps.get(key="preview_works")).status == "done"

    assert worker_run(qcluster, incident, "pagerduty_resolve", ops_user).status == "succeeded"
    assert worker_run(qcluster, incident, "postmortem", support_user).status == "succeeded"
    markdown = resolved_with_postmortem(simulator, qcluster, incident, ops_user)
    assert "Gate 4.2 passed" in markdown and "`slack_post`" in markdown
