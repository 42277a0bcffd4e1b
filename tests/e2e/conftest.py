"""Browser tests: the real app in subprocesses, driven by Debian's Chromium through Playwright.

One session = one PostgreSQL database of its own (opsportal_e2e_<pid>, created,
migrated and seeded here, dropped at the end), the devtools simulator on an
ephemeral loopback port (in this process, so tests switch its faults directly),
the WSGI app (tests/e2e/wsgi_server.py) and, when a flow needs background work,
a django-q2 worker. Data is seeded through the operator commands and services,
in this process, against the same database: every write is committed, so the
server sees it at once. People log in through the real login form.

No browser is ever downloaded: Chromium comes from apt (`.ci/run` installs it).
"""

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Playwright's sync API keeps an asyncio loop on the main thread; the ORM calls the tests make
# for seeding are plain blocking calls between browser steps, which is what this allows.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
E2E_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LAPTOP = {"width": 1366, "height": 768}
PASSWORD = "e2e-browser-password-1"
# username → role; two admins so one can approve what the other requested.
PEOPLE = {
    "sam-support": "support",
    "olga-ops": "ops",
    "ada-admin": "admin",
    "ben-admin": "admin",
    "aud-auditor": "auditor",
}


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)  # the page fixture screenshots failures
    return report


@pytest.fixture(autouse=True)
def _e2e_db_access(django_db_blocker):
    # Tests seed and read through services against the e2e database (not a test_ copy).
    with django_db_blocker.unblock():
        yield


def _database_url(name: str) -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + name))


def _admin_sql(sql: str) -> None:
    import psycopg

    parts = urlsplit(os.environ["DATABASE_URL"])
    with psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(sql)


@pytest.fixture(scope="session")
def e2e_database(django_db_blocker):
    """A fresh database for this session, migrated and seeded with the demo data and personas."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections
    from django.test import override_settings

    name = f"opsportal_e2e_{os.getpid()}"
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()  # this run's screenshots only
    _admin_sql(f'DROP DATABASE IF EXISTS "{name}"')
    _admin_sql(f'CREATE DATABASE "{name}"')
    connections.close_all()
    settings.DATABASES["default"]["NAME"] = name  # the same dict the connection handler reads
    # Same hasher as the app under test (tests/e2e/settings.py), so seeded people can log in.
    override_settings(PASSWORD_HASHERS=E2E_HASHERS).enable()
    with django_db_blocker.unblock(), open(os.devnull, "w") as quiet:
        call_command("migrate", verbosity=0, interactive=False)
        call_command("demo", stdout=quiet)
        for username, role in PEOPLE.items():
            call_command("create_staff", username, role=role, password=PASSWORD, stdout=quiet)
    yield _database_url(name)
    connections.close_all()
    if not os.environ.get("E2E_KEEP_DB"):
        _admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sim():
    """The devtools simulator, in this process: tests switch its faults directly."""
    from django.conf import settings

    from devtools.simulator.server import start_simulator

    simulator = start_simulator(port=0)
    for name, value in simulator.settings().items():
        setattr(settings, name, value)  # services called from the tests talk to it too
    yield simulator
    simulator.stop()


@pytest.fixture(autouse=True)
def _sim_clean(request):
    yield
    if "sim" in request.fixturenames:
        request.getfixturevalue("sim").clear_faults()


@pytest.fixture(scope="session")
def aws():
    """AWS Secrets Manager served by moto on an ephemeral loopback port, with the demo secrets."""
    import boto3
    from moto.server import ThreadedMotoServer

    from devtools.management.commands.simulate import DEMO_SECRETS

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        "AWS_SECRETS_ENDPOINT_URL": f"http://{host}:{port}",
        "SECRETS_MANAGER_ENABLED": "true",
        "AWS_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    client = boto3.client(
        "secretsmanager",
        endpoint_url=env["AWS_SECRETS_ENDPOINT_URL"],
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    for name in DEMO_SECRETS:
        client.create_secret(Name=name, SecretString="sb_secret_e2e_only_not_a_real_key")
    yield env
    server.stop()


@pytest.fixture(scope="session")
def audit_anchors(tmp_path_factory):
    """The audit anchor store (a folder) for this session: the app's processes and this one."""
    from django.conf import settings

    folder = tmp_path_factory.mktemp("audit-anchors")
    settings.AUDIT_ANCHOR_URL = f"file://{folder}"  # seal_audit called from the tests too
    return folder


@pytest.fixture(scope="session")
def app_env(e2e_database, sim, aws, audit_anchors):
    env = {
        **os.environ,
        "DATABASE_URL": e2e_database,
        "DJANGO_SETTINGS_MODULE": "tests.e2e.settings",
        "DEBUG": "false",
        "DEVTOOLS_ENABLED": "false",  # the app as production runs it; the simulator is `sim`
        "SECRET_KEY": "e2e-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
        # A hung upstream must turn into `timeout` quickly in the browser tests (probes keep
        # their default: a loaded CI machine must not turn a healthy simulator red).
        "INTEGRATIONS_READ_TIMEOUT": "3",
        "Q_WORKERS": "2",
        # Short dispatcher slices, so a step run never waits a minute behind a campaign slice.
        "CAMPAIGN_SLICE_SECONDS": "5",
        "ROTATION_DEPLOY_POLL_SECONDS": "0.2",
        "EMAIL_URL": "consolemail://",  # the owner's notification lands in the worker's log
        # Audit checkpoints: a test-only signing key, anchors in this session's folder.
        "AUDIT_SIGNING_KEY": "dwJGVCETp6nvQNsnPZz0yCB+319vj11EgnMEgyPjMWo=",
        "AUDIT_SIGNING_KEY_ID": "test-1",
        "AUDIT_ANCHOR_URL": f"file://{audit_anchors}",
        **aws,
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    for name, value in sim.settings().items():
        env[name] = "true" if value is True else "false" if value is False else str(value)
    return env


class _Process:
    def __init__(self, name: str, cmd: list[str], env: dict):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.log_path = ARTIFACTS / f"{name}.log"
        self.name = name
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: the worker's children stop with it
        )
        self.first_lines: list[str] = []
        self._ready = threading.Event()
        self._pump = threading.Thread(target=self._copy_output, daemon=True)
        self._pump.start()

    def _copy_output(self) -> None:
        with open(self.log_path, "w") as log:
            for line in self.proc.stdout:
                log.write(line)
                log.flush()
                if len(self.first_lines) < 500:
                    self.first_lines.append(line)
                    self._ready.set()

    def wait_for_line(self, pattern: str, timeout: float = 60) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.first_lines):
                match = re.search(pattern, line)
                if match:
                    return match
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not print {pattern!r}; see {self.log_path}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        try:  # whatever is left of this process group (qcluster's sentinel and workers)
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=5)
        self._pump.join(timeout=5)


class Portal:
    def __init__(self, base_url: str, sim):
        self.url = base_url
        self.sim = sim

    def __call__(self, path: str) -> str:
        return self.url + path


@pytest.fixture(scope="session")
def portal(app_env, sim):
    server = _Process("server", [sys.executable, "-m", "tests.e2e.wsgi_server"], app_env)
    try:
        port = int(server.wait_for_line(r"E2E_PORT=(\d+)").group(1))
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError(f"the portal never answered /healthz; see {server.log_path}")
        yield Portal(base, sim)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def worker(app_env, portal):
    """A django-q2 worker for flows whose steps run as background tasks."""
    proc = _Process("worker", [sys.executable, "manage.py", "qcluster"], app_env)
    try:
        proc.wait_for_line(r"Q Cluster .* running", timeout=90)
    except RuntimeError:
        proc.stop()
        raise
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: apt-get install -y chromium (never `playwright install`)"
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def login(browser, portal, request):
    """`login("sam-support")` → a Playwright page in a fresh browser context, logged in through
    the login form. A failing test leaves a screenshot of each of its pages."""
    pages = []

    def _login(username: str, *, viewport: dict | None = None, javascript: bool = True):
        context = browser.new_context(
            viewport=viewport or LAPTOP, accept_downloads=True, java_script_enabled=javascript
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(portal("/admin/login/?next=/admin/"))
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("#login-form [type=submit]")
        page.wait_for_url(portal("/admin/"))
        pages.append((username, page))
        return page

    yield _login
    failed = getattr(request.node, "rep_call", None)
    for username, page in pages:
        if failed is not None and failed.failed:
            shot_path(request.node.name, f"FAILED-{username}").parent.mkdir(
                parents=True, exist_ok=True
            )
            try:
                page.screenshot(
                    path=shot_path(request.node.name, f"FAILED-{username}"), full_page=True
                )
            except Exception:  # noqa: BLE001 - best effort after a failure
                pass
        page.context.close()


def shot_path(test_name: str, label: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{test_name}-{label}").strip("-")
    return ARTIFACTS / f"{safe}.png"


@pytest.fixture
def shot(request):
    """`shot(page, "label")` saves a full-page screenshot under test-artifacts/e2e/;
    `shot(page, "label", readme="front-page")` also writes docs/screenshots/front-page.png
    when E2E_README_SCREENSHOTS=1 (`make screenshots`)."""

    def _shot(page, label: str, *, readme: str = "", full_page: bool = True) -> Path:
        path = shot_path(request.node.name, label)
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=path, full_page=full_page)
        if readme and os.environ.get("E2E_README_SCREENSHOTS") == "1":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SCREENSHOTS / f"{readme}.png", full_page=full_page)
        return path

    return _shot
