import httpx
import pytest
from django.core.cache import cache

PROBE_SECRET = "prod/easymo/supabase/service-role"


@pytest.fixture(autouse=True)
def _fresh_status_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session")
def moto_endpoint():
    """One moto server (real HTTP on loopback) for the session; tests reset it."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def secrets_manager(settings, monkeypatch, moto_endpoint):
    """Secrets Manager configured against moto, with the probe secret present."""
    import boto3

    httpx.post(f"{moto_endpoint}/moto-api/reset", timeout=5)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings.AWS_SECRETS_ENDPOINT_URL = moto_endpoint
    settings.SECRETS_MANAGER_ENABLED = True
    settings.SECRETS_MANAGER_PROBE_SECRET = PROBE_SECRET
    client = boto3.client(
        "secretsmanager", endpoint_url=moto_endpoint, region_name=settings.AWS_REGION
    )
    client.create_secret(Name=PROBE_SECRET, SecretString="first-value")
    return client


@pytest.fixture
def everything_up(simulator, secrets_manager, settings):
    """Every integration configured and healthy (campaigns' probe aside: see registry fixture)."""
    from integrations.probes import registered_probes

    settings.INTEGRATIONS_PROBE_TIMEOUT = 2.0
    # Warm-up: the first boto3 client and the first PNG cost seconds of CPU on a busy
    # machine; without this the first probe of a test could read "slow" or "timeout".
    for probe in registered_probes():
        if not probe.local:
            probe.func()
    simulator.reset()
    return simulator


@pytest.fixture
def probe_registry():
    """Restore the probe registry after a test registers its own probes."""
    from integrations import probes

    saved = dict(probes._registry)
    yield probes
    probes._registry.clear()
    probes._registry.update(saved)
