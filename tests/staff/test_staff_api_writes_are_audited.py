"""Every write the staff JSON API offers is audited in the transaction of the change: who,
on what, with what. The list of write operations is read from the API itself, so a new
one fails here until it is covered."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEntry
from opsportal.api import api

pytestmark = pytest.mark.django_db

COVERED = {
    ("POST", "/api/campaigns/{campaign_id}/start"),
    ("POST", "/api/campaigns/{campaign_id}/stop"),
    ("POST", "/api/incidents/{incident_id}/steps/{step_key}/run"),
    ("POST", "/api/incidents/{incident_id}/steps/{step_key}/complete"),
    ("POST", "/api/incidents/approvals/{approval_id}/decide"),
}


def test_every_write_operation_of_the_api_is_covered_here():
    schema = api.get_openapi_schema(path_prefix="/api/")
    writes = {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method.lower() in ("post", "put", "patch", "delete")
    }
    assert writes == COVERED


def _post(client, url, body=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url, json.dumps(body or {}), content_type="application/json")
    return response, [q["sql"] for q in queries.captured_queries]


def _in_the_changes_transaction(sql: list[str], table: str) -> bool:
    """The audit INSERT comes after the change's write, before its savepoint is released."""
    change = next(i for i, q in enumerate(sql) if q.startswith(("INSERT", "UPDATE")) and table in q)
    audit = next(i for i, q in enumerate(sql) if q.startswith("INSERT") and "audit_auditentry" in q)
    release = [i for i, q in enumerate(sql) if q.startswith("RELEASE SAVEPOINT")]
    return change < audit < max(release)


def test_campaign_start_and_stop(client_for, ops_user):
    from django.utils import timezone

    from campaigns.models import Campaign
    from integrations.models import ProbeResult

    ProbeResult.objects.create(
        key="whatsapp", label="WhatsApp send", state="green", reason="ok", checked_at=timezone.now()
    )
    campaign = Campaign.objects.create(name="Promo", template="promo_v1", state="draft")
    client = client_for(ops_user)
    response, sql = _post(client, f"/api/campaigns/{campaign.pk}/start")
    assert response.status_code == 200, response.content
    assert AuditEntry.objects.get(action="campaign.start").actor == ops_user
    assert _in_the_changes_transaction(sql, "campaigns_campaign")
    response, sql = _post(client, f"/api/campaigns/{campaign.pk}/stop")
    assert response.status_code == 200
    assert AuditEntry.objects.get(action="campaign.stop").actor == ops_user
    assert _in_the_changes_transaction(sql, "campaigns_campaign")


def test_step_run_and_approval_decision(client_for, ops_user, admin_user):
    from incidents.models import Approval
    from incidents.services import incident_open

    incident, _ = incident_open(runbook_key="credential_leak", actor=admin_user)
    step = incident.steps.get(key="invalidate_sessions")
    response, sql = _post(
        client_for(ops_user), f"/api/incidents/{incident.pk}/steps/{step.key}/run"
    )
    assert response.status_code == 202, response.content
    assert AuditEntry.objects.get(action="incident.approval_requested").actor == ops_user
    assert _in_the_changes_transaction(sql, "incidents_approval")

    approval = Approval.objects.get()
    response, sql = _post(
        client_for(admin_user),
        f"/api/incidents/approvals/{approval.pk}/decide",
        {"decision": "approve", "comment": "go", "params_hash": approval.params_hash},
    )
    assert response.status_code == 200, response.content
    assert AuditEntry.objects.get(action="incident.approval_approved").actor == admin_user
    queued = AuditEntry.objects.get(action="incident.step_queued")
    assert queued.data["approval_id"] == approval.pk and queued.actor == ops_user
    assert _in_the_changes_transaction(sql, "incidents_approval")


def test_step_complete(client_for, ops_user):
    from incidents.services import incident_open

    incident, _ = incident_open(runbook_key="station_redeem", actor=ops_user)
    response, sql = _post(
        client_for(ops_user),
        f"/api/incidents/{incident.pk}/steps/scope/complete",
        {"skip": True, "note": "no scope mismatch"},
    )
    assert response.status_code == 200, response.content
    entry = AuditEntry.objects.get(action="incident.step_skipped")
    assert entry.actor == ops_user and entry.data["key"] == "scope"
    assert _in_the_changes_transaction(sql, "incidents_incidentstep")
