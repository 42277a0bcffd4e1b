"""`manage.py demo --leak` against a running simulator and moto: the leak is planted where
`make run`'s stack knows it, the Credential Leak incident opens, the printed recipe
(prepare and request as ops, approve as admin) rotates the key, and at the simulator the
leaked key is refused and the new one accepted afterwards."""

import io

import httpx
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from incidents.models import Incident
from tests.incidents.conftest import *  # noqa: F403  (fixtures: sync_tasks)
from tests.rotation.rotation_support import *  # noqa: F403  (fixtures)
from tests.rotation.rotation_support import SECRET_ID

pytestmark = pytest.mark.django_db


@pytest.fixture
def stack(simulator, aws, moto_server, settings):
    """The simulator as `manage.py simulate` runs it: it hands out moto's address too."""
    aws.create_secret(Name=SECRET_ID, SecretString="sb_secret_demo_only_not_a_real_key")
    simulator.add_settings(
        AWS_SECRETS_ENDPOINT_URL=moto_server, SECRETS_MANAGER_ENABLED=True, AWS_REGION="eu-west-1"
    )
    settings.ROTATION_DEPLOY_POLL_SECONDS = 0.01
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return simulator


def _printed(output: str, label: str) -> str:
    line = next(line for line in output.splitlines() if label in line)
    return line.split(label, 1)[1].strip()


def _accepted(sim, key: str) -> bool:
    answer = httpx.get(f"{sim.url}/auth/v1/admin/users", headers={"apikey": key}, trust_env=False)
    return answer.status_code == 200


def test_demo_leak_plants_a_leak_the_printed_recipe_rotates(stack, aws, sync_tasks):
    from django.contrib.auth import get_user_model

    from incidents.services import approval_decide
    from rotation.models import RotationRun, SupabaseProject
    from rotation.services import rotation_prepare, rotation_request

    out = io.StringIO()
    call_command("demo", "--leak", "--simulator", stack.url, stdout=out)
    output = out.getvalue()

    leaked, leaked_id = (
        _printed(output, "leaked key (simulator-only):"),
        _printed(output, "leaked key id:"),
    )
    incident = Incident.objects.get(runbook_key="credential_leak")
    assert f"/admin/incidents/incident/{incident.pk}/work/" in output
    for click in ("1. As ops", "2. As admin", "3. Watch the saga"):
        assert click in output
    # Planted: both keys work at the project; the leaked one is where a leak would be.
    assert leaked_id in {k["id"] for k in stack.state()["api_keys"]}
    assert _accepted(stack, leaked)
    assert {e["key"]: e["value"] for e in stack.state_obj.vercel_env.values()} == {
        "SUPABASE_SERVICE_ROLE_KEY": leaked
    }
    assert stack.state_obj.secrets == {"SERVICE_ROLE_KEY": leaked}
    previous = aws.get_secret_value(SecretId=SECRET_ID, VersionStage="AWSPREVIOUS")
    current = aws.get_secret_value(SecretId=SECRET_ID)["SecretString"]
    assert previous["SecretString"] == leaked and current != leaked and _accepted(stack, current)

    # The recipe: prepare and request as ops, approve as admin; the saga runs.
    people = get_user_model().objects
    ops, admin = people.get(username="ops"), people.get(username="admin")
    run = rotation_prepare(
        incident=incident,
        project=SupabaseProject.objects.get(environment="production"),
        leaked_key=leaked,
        leaked_key_id=leaked_id,
        actor=ops,
    )
    approval = rotation_request(run=run, actor=ops)
    with sync_tasks():
        approval_decide(approval=approval, actor=admin, approve=True)
    run.refresh_from_db()
    assert run.status == RotationRun.Status.SUCCEEDED, run.error
    assert list(run.steps.values_list("status", flat=True)) == ["done"] * 9
    assert not _accepted(stack, leaked) and _accepted(stack, current)


def test_without_a_running_simulator_it_says_what_to_start(db):
    with pytest.raises(CommandError, match="start `make run` first"):
        call_command("demo", "--leak", "--simulator", "http://127.0.0.1:9", stdout=io.StringIO())
