"""`make run`'s stack in subprocesses for the tests that need it: the SQLite file, the ORM task
broker, a real `qcluster`, `runserver` and the devtools simulator (in the test process, so a
test sets its latency). Used by the "login while a campaign sends" tests (suite and browser).

Everything runs against a fresh SQLite file in a temporary directory; the demo data and one
person per role are loaded through the operator commands, a campaign is started through the
campaigns service. `stop()` ends every process group it started.
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "sqlite-stack-password-1"
PEOPLE = {"olga-ops": "ops", "sam-support": "support"}

SEED = """
from campaigns.models import Campaign, Target
from campaigns.services import campaign_start
from staff.services import staff_create

people = {person: staff_create(username=person, role=role, password=PASSWORD)
          for person, role in PEOPLE.items()}
if TARGETS:
    campaign = Campaign.objects.create(
        name="Sending while people log in", template="fuel_promo_v2",
        template_variables={"discount": "10%"}, throttle_per_minute=THROTTLE, time_zone="UTC",
    )
    Target.objects.bulk_create(
        [Target(campaign=campaign, phone=f"+25078{i:07d}") for i in range(TARGETS)]
    )
    # Queued on the ORM broker: the worker started next takes it up.
    campaign_start(campaign_id=campaign.pk, actor=people["olga-ops"])
    print(f"CAMPAIGN={campaign.pk}", flush=True)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SqliteStack:
    def __init__(self, *, sim, log_dir: Path | None = None):
        self.dir = Path(tempfile.mkdtemp(prefix="opsportal-sqlite-"))
        self.log_dir = log_dir or self.dir
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST")},
            "DATABASE_URL": f"sqlite:///{self.dir / 'db.sqlite3'}",
            # make run's settings (DEBUG, ORM broker), with a fast password hasher: hashing
            # cost is not what these tests measure (tests/e2e/settings.py).
            "DJANGO_SETTINGS_MODULE": "tests.e2e.settings",
            "DEBUG": "true",
            "SECRET_KEY": "sqlite-stack-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "Q_BROKER_URL": "",
            # DEBUG anchors audit checkpoints in the checkout's .audit-anchors/: keep ours apart.
            "AUDIT_ANCHOR_URL": f"file://{self.dir / 'anchors'}",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        for name, value in sim.settings().items():
            self.env[name] = "true" if value is True else "false" if value is False else str(value)
        self.procs: list[subprocess.Popen] = []

    def manage(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def _spawn(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.log_dir / f"sqlite-{name}.log", "w")  # noqa: SIM115 - closed by stop()
        proc = subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: qcluster's children stop with it
        )
        proc.log = log
        self.procs.append(proc)
        return proc

    def start(self, *, targets: int = 0, throttle_per_minute: int = 600) -> "SqliteStack":
        """Migrate, load the people (and a started campaign of `targets` targets), then start
        the web server and the worker; returns once the web server answers."""
        self.manage("migrate", "--no-input", "-v", "0")
        code = (
            SEED.replace("PEOPLE", repr(PEOPLE))
            .replace("PASSWORD", repr(PASSWORD))
            .replace("TARGETS", str(int(targets)))
            .replace("THROTTLE", str(int(throttle_per_minute)))
        )
        out = self.manage("shell", "-c", code)
        self.campaign_id = int(out.rsplit("CAMPAIGN=", 1)[1].split()[0]) if targets else None
        self._spawn("web", "runserver", f"127.0.0.1:{self.port}", "--noreload")
        self._spawn("worker", "qcluster")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"runserver never answered; see {self.log_dir}/sqlite-web.log")

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
            try:  # whatever is left of the group (qcluster's sentinel and workers)
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=5)
            proc.log.close()


def timed_login(base_url: str, username: str, password: str = PASSWORD) -> tuple[int, float]:
    """Log in through the admin's login form: (status of the POST, its seconds)."""
    with httpx.Client(base_url=base_url, timeout=60) as client:
        client.get("/admin/login/")
        started = time.monotonic()
        response = client.post(
            "/admin/login/?next=/admin/",
            data={
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": client.cookies["csrftoken"],
                "next": "/admin/",
            },
        )
        return response.status_code, time.monotonic() - started
