"""Redeploying production on Vercel: find the deployment, redeploy it by id, wait for READY."""

import json

import pytest

from integrations.clients.vercel import VercelClient
from integrations.errors import DeploymentFailed, IntegrationError, Rejected, Timeout
from tests.vendor_contracts import VendorContractViolation

API = "https://api.vercel.com"


def deployment(uid="dpl_current", state="READY", **extra) -> dict:
    return {
        "uid": uid,
        "name": "station-web",
        "url": f"{uid}.vercel.app",
        "readyState": state,
        "target": "production",
        "created": 1764547200000,
        **extra,
    }


def test_production_deployment_is_the_newest_ready_one(vendor_urls, respx_mock, settings):
    settings.VERCEL_TEAM_ID = "team_1"
    route = respx_mock.get(f"{API}/v7/deployments").respond(
        200, json={"deployments": [deployment()], "pagination": {"count": 1}}
    )
    found = VercelClient().production_deployment()
    assert found == {
        "id": "dpl_current",
        "name": "station-web",
        "url": "dpl_current.vercel.app",
        "found_by": "deployments list",
    }
    assert dict(route.calls.last.request.url.params) == {
        "teamId": "team_1",
        "projectId": "station-web",
        "target": "production",
        "state": "READY",
        "limit": "1",
    }


def test_falls_back_to_the_projects_production_target(vendor_urls, respx_mock):
    respx_mock.get(f"{API}/v7/deployments").respond(200, json={"deployments": []})
    respx_mock.get(f"{API}/v9/projects/station-web").respond(
        200,
        json={
            "id": "prj_1",
            "name": "station-web",
            "targets": {"production": {"id": "dpl_target", "url": "t.vercel.app"}},
        },
    )
    found = VercelClient().production_deployment()
    assert (found["id"], found["name"], found["found_by"]) == (
        "dpl_target",
        "station-web",
        "project",
    )


def test_falls_back_to_the_projects_latest_ready_production_deployment(vendor_urls, respx_mock):
    respx_mock.get(f"{API}/v7/deployments").respond(200, json={"deployments": []})
    respx_mock.get(f"{API}/v9/projects/station-web").respond(
        200,
        json={
            "id": "prj_1",
            "name": "station-web",
            "latestDeployments": [
                {"id": "dpl_preview", "target": None, "readyState": "READY"},
                {"id": "dpl_broken", "target": "production", "readyState": "ERROR"},
                {"id": "dpl_latest", "target": "production", "readyState": "READY"},
            ],
        },
    )
    assert VercelClient().production_deployment()["id"] == "dpl_latest"


def test_no_production_deployment_is_a_clear_rejection(vendor_urls, respx_mock):
    respx_mock.get(f"{API}/v7/deployments").respond(200, json={"deployments": []})
    respx_mock.get(f"{API}/v9/projects/station-web").respond(
        200, json={"id": "prj_1", "name": "station-web"}
    )
    with pytest.raises(Rejected) as exc:
        VercelClient().production_deployment()
    assert exc.value.code == "no_production_deployment"


def test_redeploy_production_sends_the_deployment_id_and_forces_a_new_build(
    vendor_urls, respx_mock
):
    respx_mock.get(f"{API}/v7/deployments").respond(200, json={"deployments": [deployment()]})
    create = respx_mock.post(f"{API}/v13/deployments").respond(
        200, json={"id": "dpl_new", "name": "station-web", "readyState": "QUEUED"}
    )
    created = VercelClient().redeploy_production()
    assert created["id"] == "dpl_new"
    sent = create.calls.last.request
    assert json.loads(sent.content) == {
        "name": "station-web",
        "project": "station-web",
        "deploymentId": "dpl_current",
        "target": "production",
    }
    assert dict(sent.url.params) == {"forceNew": "1"}


def test_redeploy_production_of_a_given_deployment_skips_the_lookup(vendor_urls, respx_mock):
    create = respx_mock.post(f"{API}/v13/deployments").respond(
        200, json={"id": "dpl_new", "readyState": "QUEUED"}
    )
    VercelClient().redeploy_production(deployment={"id": "dpl_shown", "name": "station-web"})
    assert json.loads(create.calls.last.request.content)["deploymentId"] == "dpl_shown"


def test_old_redeploy_body_is_refused_by_the_vercel_contract(
    vendor_urls, respx_mock, vendor_contracts
):
    create = respx_mock.post(f"{API}/v13/deployments").respond(
        200, json={"id": "dpl_x", "readyState": "QUEUED"}
    )
    client = VercelClient()
    with vendor_contracts.expect() as caught:
        with pytest.raises(VendorContractViolation):  # what the deprecated redeploy() sent
            client.request("POST", "/v13/deployments", json={"name": "p", "target": "production"})
    assert not create.called  # refused before it left
    assert [(v.where, v.message.split(" (")[0]) for v in caught] == [
        ("body", "needs one of: deploymentId | files | gitSource")
    ]


def test_wait_follows_ready_state_until_ready(vendor_urls, respx_mock):
    route = respx_mock.get(f"{API}/v13/deployments/dpl_new").mock(
        side_effect=[
            _state("QUEUED"),
            _state("INITIALIZING"),
            _state("BUILDING"),
            _state("READY"),
        ]
    )
    assert VercelClient().deployment_wait("dpl_new", interval=0.001) == "READY"
    assert route.call_count == 4


@pytest.mark.parametrize("state", ["ERROR", "CANCELED", "BLOCKED"])
def test_a_failed_build_raises_deployment_failed(vendor_urls, respx_mock, state):
    respx_mock.get(f"{API}/v13/deployments/dpl_new").mock(
        side_effect=[_state("BUILDING"), _state(state)]
    )
    with pytest.raises(DeploymentFailed) as exc:
        VercelClient().deployment_wait("dpl_new", interval=0.001)
    assert isinstance(exc.value, IntegrationError)  # what the saga rolls back on
    assert (exc.value.state, exc.value.code, exc.value.permanent) == (
        state,
        f"deployment_{state.lower()}",
        True,
    )


def test_a_build_that_never_finishes_times_out(vendor_urls, respx_mock):
    respx_mock.get(f"{API}/v13/deployments/dpl_new").respond(
        200, json={"id": "dpl_new", "readyState": "BUILDING"}
    )
    with pytest.raises(Timeout):
        VercelClient().deployment_wait("dpl_new", timeout=0.05, interval=0.01)


def _state(ready_state: str):
    import httpx

    return httpx.Response(200, json={"id": "dpl_new", "readyState": ready_state})
