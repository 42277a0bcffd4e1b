import pytest
from django.urls import reverse

from incidents.models import StepRun
from staff.services import api_token_create

pytestmark = pytest.mark.django_db


def _auth(user):
    return {"authorization": f"Bearer {api_token_create(user=user).plaintext}"}


def test_anonymous_callers_get_401(client, open_incident):
    incident = open_incident()
    assert client.get(reverse("staff-api:incident", args=[incident.pk])).status_code == 401


def test_support_runs_a_safe_step_through_the_api_and_reads_its_log(
    client, open_incident, support_user, voucher_factory, sync_tasks
):
    voucher = voucher_factory()
    incident = open_incident(impacted=[("vouchers.voucher", voucher.pk, voucher.code)])
    headers = _auth(support_user)
    with sync_tasks():
        response = client.post(
            reverse("staff-api:incident-step-run", args=[incident.pk, "voucher_review"]),
            data={"params": {}},
            content_type="application/json",
            headers=headers,
        )
    assert response.status_code == 202
    run_id = response.json()["run"]["id"]
    body = client.get(reverse("staff-api:incident-run", args=[run_id]), headers=headers).json()
    assert body["run"]["status"] == "succeeded"
    assert any(voucher.code in line for line in body["run"]["log"])
    detail = client.get(reverse("staff-api:incident", args=[incident.pk]), headers=headers).json()
    assert [s["number"] for s in detail["steps"]][:3] == ["1.1", "1.2", "2.1"]


def test_the_auditor_cannot_run_steps_through_the_api(client, open_incident, auditor_user):
    incident = open_incident()
    response = client.post(
        reverse("staff-api:incident-step-run", args=[incident.pk, "voucher_review"]),
        data={},
        content_type="application/json",
        headers=_auth(auditor_user),
    )
    assert response.status_code == 403 and response.json()["error"] == "forbidden"
    assert not StepRun.objects.exists()


def test_bad_parameters_are_a_400(client, open_incident, ops_user):
    incident = open_incident("whatsapp_send")
    url = reverse("staff-api:incident-step-run", args=[incident.pk, "reschedule"])
    for body in ({"params": {"seconds": "soon"}}, {"params": ["x"]}, {"params": {"bogus": 1}}):
        response = client.post(
            url, data=body, content_type="application/json", headers=_auth(ops_user)
        )
        assert response.status_code == 400, body
        assert response.json()["error"] == "invalid_request"
