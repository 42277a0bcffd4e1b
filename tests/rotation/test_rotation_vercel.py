"""Step 3's redeploy as Vercel requires it: the deployment serving production, redeployed by
`deploymentId`; the strict simulator refuses the old `{"name", "target"}` body, as Vercel
does for a project not deployed from git. A build ending ERROR or CANCELED rolls back."""

import httpx
import pytest

from rotation.models import RotationRun
from tests.rotation.rotation_support import *  # noqa: F403  (fixtures)

pytestmark = pytest.mark.django_db


def test_the_old_body_is_refused_and_the_saga_redeploys_by_deployment_id(world, rotate):
    old = httpx.post(  # a plain client: the suite's contract check would stop it sooner
        f"{world.sim.url}/vercel/v13/deployments",
        headers={"Authorization": "Bearer sim-vercel-token"},
        json={"name": "station-web", "target": "production"},
        trust_env=False,
    )
    assert old.status_code == 400 and old.json()["error"]["code"] == "bad_request"
    assert "deploymentId" in old.json()["error"]["message"]
    serving = world.production()
    world.sim.state_obj.calls.clear()

    run = rotate()

    assert run.status == RotationRun.Status.SUCCEEDED, run.error
    [create] = [c for c in world.sim.calls("vercel", "POST") if c["path"] == "/v13/deployments"]
    assert create["status"] == 200 and create["query"] == {"forceNew": "1"}
    assert create["body"] == {
        "name": "station-web",
        "project": "station-web",
        "deploymentId": serving,
        "target": "production",
    }
    step = run.steps.get(number=3)
    assert f"(redeploy of {serving}) READY" in step.detail
    assert world.production() == step.data["deployment_id"] != serving


@pytest.mark.parametrize("ending", ["ERROR", "CANCELED"])
def test_a_build_that_does_not_go_live_rolls_the_rotation_back(world, rotate, ending):
    serving = world.production()
    world.sim.set_deploy_result(ending)

    run = rotate()

    assert (run.status, run.failed_step) == (RotationRun.Status.ROLLED_BACK, 3)
    assert f"deployment ended {ending}" in run.error
    assert world.vercel_value() == world.leaked  # the previous value is back
    assert world.production() == serving  # production still runs the old build
    assert world.leaked_id in world.api_key_ids()  # nothing revoked
