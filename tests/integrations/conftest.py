import httpx
import pytest
from django.core.cache import cache

PROBE_SECRET = "prod/easymo/supabase/service-role"
# The integration keys of the status contract (contracts.md).
CONTRACT_KEYS = {
    "voucher_png",
    "whatsapp",
    "campaign_dispatcher",
    "pagerduty",
    "slack",
    "secrets_manager",
    "vercel",
    "supabase_management",
}


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


# A project ref as the Supabase API documents them: 20 lowercase letters.
PROJECT_REF = "abcdefghijklmnopqrst"


@pytest.fixture
def vendor_urls(settings):
    """Every HTTP client configured against the vendors' real addresses with fake keys, for
    tests that answer with respx (the network guard stops anything respx does not mock)."""
    values = {
        "SUPABASE_URL": f"https://{PROJECT_REF}.supabase.co",
        "SUPABASE_PROJECT_URL_TEMPLATE": "https://{ref}.supabase.co",
        "SUPABASE_FUNCTIONS_JWT": "eyJ-test-functions-jwt",
        "SUPABASE_FUNCTIONS_APIKEY": "sb_publishable_test",
        "SUPABASE_FUNCTIONS_ENABLED": True,
        "SUPABASE_MANAGEMENT_URL": "https://api.supabase.com",
        "SUPABASE_ACCESS_TOKEN": "sbp_test_access_token",
        "SUPABASE_PROJECT_REF": PROJECT_REF,
        "SUPABASE_MANAGEMENT_ENABLED": True,
        "VERCEL_API_URL": "https://api.vercel.com",
        "VERCEL_TOKEN": "test-vercel-token",
        "VERCEL_PROJECT": "station-web",
        "VERCEL_TEAM_ID": "",
        "VERCEL_ENABLED": True,
        "PAGERDUTY_API_URL": "https://api.pagerduty.com",
        "PAGERDUTY_EVENTS_URL": "https://events.pagerduty.com",
        "PAGERDUTY_API_KEY": "test-pagerduty-key",
        "PAGERDUTY_ROUTING_KEY": "test-routing-key",
        "PAGERDUTY_FROM_EMAIL": "ops@example.com",
        "PAGERDUTY_ENABLED": True,
        "SLACK_API_URL": "https://slack.com/api",
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_ENABLED": True,
    }
    for name, value in values.items():
        setattr(settings, name, value)
    return values
