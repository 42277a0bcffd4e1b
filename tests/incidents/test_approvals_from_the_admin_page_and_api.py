"""The same approval rules through the admin page (session + CSRF forms) and the JSON API."""

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse

from incidents.models import Approval, StepRun
from incidents.services import step_run_request
from staff.services import api_token_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(open_incident, step_of, ops_user):
    step = step_of(open_incident("credential_leak"), "invalidate_sessions")
    return step_run_request(step=step, actor=ops_user, params={})


def _act(client, approval, op, **extra):
    url = reverse("admin:incidents_incident_act", args=[approval.incident_id])
    data = {"op": op, "approval": approval.pk, "params_hash": approval.params_hash, **extra}
    return client.post(url, data)


def test_admin_page_requester_cannot_approve_own_request(client_for, admin_user, open_incident):
    from incidents.services import step_run_request as request_run

    step = open_incident("credential_leak").steps.get(key="invalidate_sessions")
    approval = request_run(step=step, actor=admin_user, params={})
    response = _act(client_for(admin_user), approval, "approve")
    assert response.status_code == 403
    approval.refresh_from_db()
    assert approval.status == "pending"


def test_admin_page_ops_cannot_approve(client_for, pending, make_staff):
    response = _act(client_for(make_staff("ops", "oscar-ops")), pending, "approve")
    assert response.status_code == 403
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_admin_page_second_admin_approves_and_the_run_is_queued(
    client_for, pending, admin_user, sync_tasks
):
    client = client_for(admin_user)
    page = client.get(reverse("admin:incidents_incident_work", args=[pending.incident_id]))
    assert page.status_code == 200 and f"approval #{pending.pk} pending" in page.content.decode()
    with sync_tasks():
        response = _act(client, pending, "approve", comment="ok")
    assert response.status_code == 302
    run = StepRun.objects.get()
    assert run.status == "succeeded" and run.approval_id == pending.pk
    assert not Session.objects.filter(session_key=client.session.session_key).exists()


def test_admin_page_approval_with_a_stale_parameter_hash_is_refused(
    client_for, pending, admin_user
):
    response = _act(client_for(admin_user), pending, "approve", params_hash="f" * 64)
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == "pending" and not StepRun.objects.exists()


def _api(client, approval, token, **body):
    return client.post(
        reverse("staff-api:approval-decide", args=[approval.pk]),
        data=body,
        content_type="application/json",
        headers={"authorization": f"Bearer {token}"},
    )


def test_api_requester_cannot_approve_own_request(client, admin_user, open_incident):
    step = open_incident("credential_leak").steps.get(key="invalidate_sessions")
    token = api_token_create(user=admin_user).plaintext
    response = client.post(
        reverse("staff-api:incident-step-run", args=[step.incident_id, step.key]),
        data={"params": {}},
        content_type="application/json",
        headers={"authorization": f"Bearer {token}"},
    )
    assert response.status_code == 202
    approval = Approval.objects.get(pk=response.json()["approval"]["id"])
    response = _api(client, approval, token, decision="approve")
    assert response.status_code == 403 and response.json()["error"] == "forbidden"
    assert "cannot approve your own request" in response.json()["detail"]


def test_api_ops_token_cannot_approve_and_admin_token_can(client, pending, admin_user, ops_user):
    assert (
        _api(
            client, pending, api_token_create(user=ops_user).plaintext, decision="approve"
        ).status_code
        == 403
    )
    response = _api(
        client,
        pending,
        api_token_create(user=admin_user).plaintext,
        decision="approve",
        params_hash=pending.params_hash,
    )
    assert response.status_code == 200 and response.json()["approval"]["status"] == "approved"
    assert StepRun.objects.get().approval_id == pending.pk


def test_api_bad_input_is_a_400_never_a_500(client, pending, admin_user):
    token = api_token_create(user=admin_user).plaintext
    assert _api(client, pending, token, decision="maybe").status_code == 400
    response = client.post(
        reverse("staff-api:approval-decide", args=[pending.pk]),
        data="not json",
        content_type="application/json",
        headers={"authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert _api(client, pending, token, decision="deny").status_code == 400  # deny needs a comment
