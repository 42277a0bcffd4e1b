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

    incident_status_set(incident=incident, status="resolved", actor=ops_user)
    incident.refresh_from_db()
    page = client_for(support_user).get(reverse("admin:index")).content.decode()
    assert "Voucher previews unavailable; fallback to code view." not in page
    markdown = incident.postmortem_markdown
    for text in ("Time to resolve", "`slack_post`", "`pagerduty_resolve`", "Gate 4.2 passed"):
        assert text in markdown
    assert (
        AuditEntry.objects.filter(incident_id=incident.pk, action="incident.step_run").count() == 6
    )
