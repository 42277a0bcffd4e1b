"""Two web hosts and two worker hosts on this machine: the multi-host topology of
README "Running on several hosts", started by `make cluster` and driven by
tests/cluster/test_cluster.py.

- web `a` and `b`: gunicorn with the repository's gunicorn.conf.py, each on its own port
  and PROMETHEUS_MULTIPROC_DIR, behind the tiny proxy (`proxy.py`, our nginx's headers);
- worker `a` and `b`: a `qcluster` each on the shared Redis broker, with its metrics
  exporter (`manage.py metrics_exporter`) in the same process group, so killing the group
  is a host going away;
- shared: PostgreSQL (`database_url`), Redis as broker and cache, the simulator.

Every process gets production settings (DEBUG off) except HTTPS (plain loopback HTTP).
A run's queue name and cache prefix are its own, so two runs on one Redis never mix.
"""

import base64
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from django.conf import settings

from devtools.cluster.proxy import Proxy
from devtools.simulator.server import settings_for

ROOT = Path(settings.BASE_DIR)
NODES = ("a", "b")
# Left out of the children's environment: the parent's own test and database settings.
DROPPED_PREFIXES = ("PYTEST", "DJANGO_", "Q_", "CACHE_URL", "PROMETHEUS_", "OPSPORTAL_NODE")


def database_url_of(settings_dict: dict) -> str:
    """A Django database's settings as the DATABASE_URL the children read."""
    s = settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return (
        f"postgres://{s.get('USER') or 'postgres'}{password}@{s.get('HOST') or '127.0.0.1'}"
        f":{s.get('PORT') or 5432}/{s['NAME']}"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Host:
    name: str
    port: int  # gunicorn (web) or the metrics exporter (worker)
    metrics_dir: Path
    log: Path
    proc: subprocess.Popen | None = None
    extra: list[subprocess.Popen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL to the whole process group: the host is gone, nothing shuts down cleanly."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for proc in (self.proc, *self.extra):
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                pass

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


class Topology:
    def __init__(
        self,
        *,
        database_url: str,
        sim_url: str,
        redis_url: str = "redis://127.0.0.1:6379",
        broker_db: int = 6,
        cache_db: int = 7,
        web_workers: int = 2,
        q_workers: int = 3,
        workdir: Path | None = None,
        env: dict[str, str] | None = None,
    ):
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="opsportal-cluster-"))
        self.name = f"opsportal-{secrets.token_hex(4)}"
        self.metrics_token = secrets.token_urlsafe(24)
        self.web: dict[str, Host] = {}
        self.workers: dict[str, Host] = {}
        self.proxy: Proxy | None = None
        base = {k: v for k, v in os.environ.items() if not k.startswith(DROPPED_PREFIXES)}
        sim = {
            k: str(v).lower() if isinstance(v, bool) else str(v)
            for k, v in settings_for(sim_url).items()
        }
        self.env = {
            **base,
            **sim,
            "DATABASE_URL": database_url,
            "DEBUG": "false",
            "DEVTOOLS_ENABLED": "false",
            "SECRET_KEY": "cluster-" + secrets.token_urlsafe(40),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "SECURE_HSTS_SECONDS": "0",
            "Q_BROKER_URL": f"{redis_url}/{broker_db}",
            "Q_NAME": self.name,
            "Q_WORKERS": str(q_workers),
            "CACHE_URL": f"{redis_url}/{cache_db}?key_prefix={self.name}",
            "TRUST_X_REQUEST_START": "true",
            "METRICS_TOKEN": self.metrics_token,
            "LOG_FORMAT": "json",
            "WEB_CONCURRENCY": str(web_workers),
            # Production audit settings: checkpoints signed, anchored outside the database.
            "AUDIT_SIGNING_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "AUDIT_SIGNING_KEY_ID": "cluster",
            "AUDIT_ANCHOR_URL": f"file://{self.workdir / 'audit-anchors'}",
            **(env or {}),
        }

    # --- start and stop -----------------------------------------------------------------

    def start(self) -> "Topology":
        try:
            for node in NODES:
                self.web[node] = self._start_web(node)
                self.workers[node] = self._start_worker(node)
            for node in NODES:
                self._wait_web(self.web[node])
                self._wait_worker(self.workers[node])
            self.proxy = Proxy([("127.0.0.1", self.web[n].port) for n in NODES]).start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()
        for host in (*self.web.values(), *self.workers.values()):
            host.stop()

    def cleanup(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _host(self, kind: str, node: str) -> Host:
        metrics_dir = self.workdir / f"{kind}-{node}-metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        return Host(
            name=f"{kind}-{node}",
            port=free_port(),
            metrics_dir=metrics_dir,
            log=self.workdir / f"{kind}-{node}.log",
        )

    def _popen(self, host: Host, args: list[str], **kwargs) -> subprocess.Popen:
        env = {
            **self.env,
            "PROMETHEUS_MULTIPROC_DIR": str(host.metrics_dir),
            "OPSPORTAL_NODE": host.name.split("-", 1)[1],
        }
        log = open(host.log, "ab")  # noqa: SIM115 (the child keeps it open)
        return subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, **kwargs
        )

    def _start_web(self, node: str) -> Host:
        host = self._host("web", node)
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        host.proc = self._popen(
            host,
            [gunicorn, "opsportal.wsgi:application", "--bind", f"127.0.0.1:{host.port}"],
            process_group=0,
        )
        return host

    def _start_worker(self, node: str) -> Host:
        host = self._host("worker", node)
        host.proc = self._popen(host, [sys.executable, "manage.py", "qcluster"], process_group=0)
        exporter = self._popen(
            host,
            [sys.executable, "manage.py", "metrics_exporter", "--bind", f"127.0.0.1:{host.port}"],
            process_group=host.proc.pid,  # one group: killing the host kills its exporter too
        )
        host.extra = [exporter]
        return host

    def restart_workers(self, **env: str) -> None:
        """Stop every worker host and start it again with these settings changed."""
        self.env.update(env)
        for node in NODES:
            self.workers[node].stop()
            self.workers[node] = self._start_worker(node)
        for node in NODES:
            self._wait_worker(self.workers[node])

    def _wait(self, host: Host, ready, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not host.alive():
                raise RuntimeError(f"{host.name} exited:\n{host.log_tail()}")
            try:
                if ready():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"{host.name} not ready in {timeout} s:\n{host.log_tail()}")

    def _wait_web(self, host: Host) -> None:
        self._wait(host, lambda: httpx.get(f"{host.url}/healthz", timeout=2).status_code == 200)

    def _wait_worker(self, host: Host) -> None:
        self._wait(
            host, lambda: "running" in host.log_tail(100_000) and self.scrape(host) is not None
        )

    # --- reading --------------------------------------------------------------------------

    def scrape(self, host: Host) -> str:
        response = httpx.get(
            f"{host.url}/metrics",
            headers={"Authorization": f"Bearer {self.metrics_token}"},
            timeout=10,
        )
        response.raise_for_status()
        return response.text

    def describe(self) -> str:
        lines = [f"proxy (nginx's part)  {self.proxy.url if self.proxy else '-'}"]
        lines += [f"web {n}                 {h.url}   log {h.log}" for n, h in self.web.items()]
        lines += [
            f"worker {n} (qcluster)  metrics {h.url}/metrics   log {h.log}"
            for n, h in self.workers.items()
        ]
        lines.append(f"queue/cache name      {self.name}   metrics token {self.metrics_token}")
        return "\n".join(lines)
