"""The staff API's OpenAPI document (/api/staff/schema/) describes the code: schemathesis,
authenticated as a staff token, finds no 5xx and no answer outside the schema on any
endpoint (bounded examples, in-process WSGI), like tests/vouchers/test_openapi.py does
for the station API."""

import itertools
import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from staff.services import api_token_create

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
STAFF_OPERATIONS = {
    ("GET", "/api/me"),
    ("GET", "/api/integrations/status"),
    ("POST", "/api/campaigns/{campaign_id}/start"),
    ("POST", "/api/campaigns/{campaign_id}/stop"),
    ("GET", "/api/campaigns/{campaign_id}/status"),
    ("GET", "/api/campaigns/{campaign_id}/failed-targets.csv"),
    ("GET", "/api/incidents/{incident_id}"),
    ("POST", "/api/incidents/{incident_id}/steps/{step_key}/run"),
    ("POST", "/api/incidents/{incident_id}/steps/{step_key}/complete"),
    ("GET", "/api/incidents/runs/{run_id}"),
    ("POST", "/api/incidents/approvals/{approval_id}/decide"),
}


@pytest.fixture
def admin_token(admin_user):
    return api_token_create(user=admin_user, name="schemathesis").plaintext


def test_the_schema_is_for_staff_only_and_lists_every_staff_endpoint(client, admin_token):
    anonymous = client.get("/api/staff/schema/")
    assert (anonymous.status_code, anonymous.json()) == (401, {"error": "unauthorized"})

    response = client.get("/api/staff/schema/", HTTP_AUTHORIZATION=f"Bearer {admin_token}")

    assert response.status_code == 200
    schema = json.loads(response.content)
    served = {(m.upper(), path) for path, ops in schema["paths"].items() for m in ops}
    assert served == STAFF_OPERATIONS
    assert set(schema["components"]["securitySchemes"]) == {"StaffToken", "StaffSession"}
    # The station API keeps its own hand-written document.
    assert "/api/station/redeem" not in schema["paths"]
    for path, ops in schema["paths"].items():
        for method, operation in ops.items():
            for status in ("401", "403"):
                body = operation["responses"][status]["content"]["application/json"]["schema"]
                assert body == {"$ref": "#/components/schemas/Error"}, (method, path, status)


def test_the_docs_page_is_served_to_staff_without_a_cdn(client, admin_user):
    assert client.get("/api/staff/docs").status_code == 401
    client.force_login(admin_user)
    page = client.get("/api/staff/docs")
    assert page.status_code == 200
    assert b"/api/staff/schema/" in page.content
    assert b"cdn." not in page.content and b"unpkg" not in page.content


@pytest.fixture
def world(ops_user, settings):
    """Real rows for some generated calls to hit (200/202/409, not only 404): a campaign,
    an incident with a queued run and a pending approval (ops asked, the admin decides)."""
    from campaigns.models import Campaign, Target
    from incidents.services import incident_open, step_run_request

    # Probing stays on this machine and quick: nothing is configured.
    for switch in (
        "SUPABASE_FUNCTIONS_ENABLED",
        "SUPABASE_MANAGEMENT_ENABLED",
        "VERCEL_ENABLED",
        "PAGERDUTY_ENABLED",
        "SLACK_ENABLED",
        "SECRETS_MANAGER_ENABLED",
    ):
        setattr(settings, switch, False)
    campaign = Campaign.objects.create(name="Promo", template="promo_v1", state="running")
    Target.objects.bulk_create(
        [Target(campaign=campaign, phone=f"+25078811{i:04d}") for i in range(3)]
    )
    incident, _ = incident_open(runbook_key="credential_leak", actor=ops_user)
    risky = incident.steps.get(action_key="admin_sessions_invalidate")
    approval = step_run_request(step=risky, actor=ops_user, params={})
    run = step_run_request(step=risky, actor=ops_user, params={}, dry_run=True)
    return {
        "campaign_id": [campaign.pk],
        "incident_id": [incident.pk],
        "step_key": list(incident.steps.values_list("key", flat=True)),
        "run_id": [run.pk],
        "approval_id": [approval.pk],
    }


@pytest.fixture
def staff_api_schema(db, admin_token):
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from opsportal.wsgi import application

    # Like Django's test client: keep the test's connection (and its transaction) open.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi(
        "/api/staff/schema/", application, headers={"Authorization": f"Bearer {admin_token}"}
    )
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.django_db
def test_the_staff_api_conforms_to_its_schema(staff_api_schema, admin_token, world, mode):
    auth = {"Authorization": f"Bearer {admin_token}"}
    calls = itertools.count()
    operations = [result.ok() for result in staff_api_schema.get_all_operations()]
    assert {(op.method.upper(), op.path) for op in operations} == STAFF_OPERATIONS

    for operation in operations:

        @given(case=operation.as_strategy(mode))
        @settings(
            max_examples=25,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            n = next(calls)
            if mode.is_positive and n % 2:  # real rows too, not only unknown ids
                for name, values in world.items():
                    if case.path_parameters and name in case.path_parameters:
                        case.path_parameters[name] = values[n % len(values)]
            case.call_and_validate(headers=auth, checks=CHECKS)

        check()
