"""Fixtures for the key-rotation tests: moto in server mode + the simulator, real sockets.

The world before a rotation: a leaked secret key and its replacement both exist in the
simulated Supabase project; Secrets Manager holds replacement (AWSCURRENT) and leaked
(AWSPREVIOUS); Vercel and the Edge Function secrets still hold the leaked key.
Test modules import the fixtures they use from here.
"""

import httpx
import pytest

__all__ = ["aws", "leak_incident", "moto_server", "prepared", "rotate", "world"]  # the fixtures

SECRET_ID = "prod/easymo/supabase/service-role"
VERCEL_VAR = "SUPABASE_SERVICE_ROLE_KEY"
FUNCTION_SECRET = "SERVICE_ROLE_KEY"


@pytest.fixture(scope="session")
def moto_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_server, settings, monkeypatch):
    """Secrets Manager on the moto server, emptied before each test."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    httpx.post(f"{moto_server}/moto-api/reset", timeout=5)
    settings.AWS_SECRETS_ENDPOINT_URL = moto_server
    settings.AWS_REGION = "eu-west-1"
    settings.SECRETS_MANAGER_ENABLED = True
    import boto3

    return boto3.client("secretsmanager", region_name="eu-west-1", endpoint_url=moto_server)


class World:
    def __init__(self, sim, aws, project, leaked, leaked_id, new):
        self.sim, self.aws, self.project = sim, aws, project
        self.leaked, self.leaked_id, self.new = leaked, leaked_id, new

    def vercel_value(self, name=VERCEL_VAR):
        return self.vercel_values().get(name)

    def vercel_values(self):
        return {e["key"]: e["value"] for e in self.sim.state_obj.vercel_env.values()}

    def function_secret(self, name=FUNCTION_SECRET):
        return self.sim.state_obj.secrets.get(name)

    def builds(self):
        """The deployments the rotation started (the simulator's first one is not one)."""
        return [d for d in self.sim.state()["deployments"] if d.get("source")]

    def production(self, project="station-web"):
        """The id of the deployment serving production now."""
        return self.sim.state()["vercel_production"][project]

    def api_key_ids(self):
        return set(self.sim.state_obj.api_keys)

    def accepted(self, key):
        from integrations.clients.supabase_admin import SupabaseAdminProbe

        return SupabaseAdminProbe(project_ref=self.project.project_ref).key_accepted(key)


@pytest.fixture
def world(simulator, aws, settings, db):
    from integrations.clients.supabase_management import SupabaseManagementClient
    from integrations.clients.vercel import VercelClient
    from rotation.models import SupabaseProject

    settings.ROTATION_DEPLOY_POLL_SECONDS = 0.01
    settings.ROTATION_DEPLOY_TIMEOUT_SECONDS = 5
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mgmt = SupabaseManagementClient(project_ref="easymoprodprojectref")
    leaked = mgmt.api_key_create(name="service_role_2025")
    new = mgmt.api_key_create(name="service_role_2026")
    aws.create_secret(Name=SECRET_ID, SecretString=leaked["api_key"])
    aws.put_secret_value(SecretId=SECRET_ID, SecretString=new["api_key"])
    VercelClient(project="station-web").env_upsert(
        key=VERCEL_VAR, value=leaked["api_key"], targets=["production", "preview"]
    )
    mgmt.secrets_set({FUNCTION_SECRET: leaked["api_key"]})
    project = SupabaseProject.objects.create(
        environment="production",
        project_ref="easymoprodprojectref",
        primary_owner="Grace Owner",
        owner_email="grace@example.com",
        owner_slack="U0GRACE",
        service_role_secret_id=SECRET_ID,
        vercel_project="station-web",
        vercel_env_vars=[VERCEL_VAR],
        vercel_targets=["production", "preview"],
        function_secret_names=[FUNCTION_SECRET],
        edge_functions=["voucher-png", "send-whatsapp"],
    )
    simulator.state_obj.calls.clear()
    return World(simulator, aws, project, leaked["api_key"], leaked["id"], new["api_key"])


@pytest.fixture
def leak_incident(open_incident, admin_user):
    return open_incident("credential_leak", actor=admin_user, dedup_key="leak-test")


@pytest.fixture
def rotate(world, leak_incident, admin_user, second_admin, sync_tasks):
    """prepare → request (approval) → a second admin approves → the saga runs (sync)."""
    from incidents.services import approval_decide
    from rotation.services import rotation_prepare, rotation_request

    def _rotate(run=None, *, requester=admin_user, approver=second_admin):
        if run is None:
            run = rotation_prepare(
                incident=leak_incident,
                project=world.project,
                leaked_key=world.leaked,
                leaked_key_id=world.leaked_id,
                actor=requester,
            )
        approval = rotation_request(run=run, actor=requester)
        with sync_tasks():
            approval_decide(approval=approval, actor=approver, approve=True)
        run.refresh_from_db()
        return run

    return _rotate


@pytest.fixture
def prepared(world, leak_incident, admin_user):
    """A rotation of the world's project, prepared by the first admin (nothing run yet)."""
    from rotation.services import rotation_prepare

    return rotation_prepare(
        incident=leak_incident,
        project=world.project,
        leaked_key=world.leaked,
        leaked_key_id=world.leaked_id,
        actor=admin_user,
    )


def nothing_changed(world, run) -> None:
    """The rotation did not start: every place still holds the leaked key, which is still
    active, and the simulator saw reads at most."""
    from rotation.models import RotationRun

    run.refresh_from_db()
    assert run.status == RotationRun.Status.PREPARED
    assert world.vercel_value() == world.leaked
    assert world.function_secret(FUNCTION_SECRET) == world.leaked
    assert world.leaked_id in world.api_key_ids()
    assert [c for c in world.sim.calls() if c["method"] != "GET"] == []
