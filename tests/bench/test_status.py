"""Status API benchmark (`make bench`): GET /api/integrations/status with a staff token.

Its own database (<DATABASE_URL name>_status_bench), gunicorn with the repository's conf
on PostgreSQL, the simulator behind the clients. For each cache backend (the default
per-process locmem, then Redis as CACHE_URL):
1. cached: wrk, 16 connections, BENCH_SECONDS → rate, p50, p99 (goal: p99 ≤ 10 ms);
2. forced: 50 concurrent `?force=true` through the topology's proxy (X-Request-Start, as
   nginx sets it) → probe calls per integration at the simulator (goal: exactly 1 each).
Then the in-process cost of one cached request (Django's test client in a process on the
same database): queries and milliseconds per request. Asserts correctness only.
"""

import contextlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx
import psycopg
import pytest

from devtools.cluster.proxy import Proxy
from devtools.simulator.server import settings_for, start_simulator

ROOT = Path(__file__).resolve().parents[2]
DURATION = float(os.environ.get("BENCH_SECONDS", "8"))
CONNECTIONS = 16
FORCED = 50
PROBED = ("voucher_png", "whatsapp", "supabase_management", "vercel", "pagerduty", "slack")
PROFILE = """
import time
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
client = Client(headers={"Authorization": "Bearer %(token)s"}, HTTP_HOST="127.0.0.1")
for _ in range(50):
    client.get("/api/integrations/status")
n = 500
with CaptureQueriesContext(connection) as queries:
    started = time.perf_counter()
    for _ in range(n):
        assert client.get("/api/integrations/status").status_code == 200
    elapsed = time.perf_counter() - started
print(f"{elapsed / n * 1000:.3f} {len(queries) / n:.2f}")
"""

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim():
    simulator = start_simulator(port=0)
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def bench(sim):
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/opsportal")
    parsed = urlparse(base)
    name = parsed.path.lstrip("/") + "_status_bench"
    admin_url = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "CACHE_URL"))},
        **{
            k: str(v).lower() if isinstance(v, bool) else str(v)
            for k, v in settings_for(sim.url).items()
        },
        "DATABASE_URL": parsed._replace(path=f"/{name}").geturl(),
        "DEBUG": "false",
        "DEVTOOLS_ENABLED": "false",
        "SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-0123",
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1,testserver",
        "TRUST_X_REQUEST_START": "true",
        "LOG_LEVEL": "WARNING",
    }

    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    manage("migrate", "--no-input", "-v", "0")
    manage(
        "create_staff", "bench-support", "--role", "support", "--password", secrets.token_hex(16)
    )
    token = manage("create_api_token", "bench-support").strip().splitlines()[-1]
    yield {"env": env, "token": token, "manage": manage}
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def gunicorn(env):
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "opsportal.wsgi:application",
            "--bind",
            "127.0.0.1:0",
        ],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    port, deadline = None, time.time() + 30
    while time.time() < deadline and port is None:
        match = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", proc.stderr.readline())
        port = int(match.group(1)) if match else None
    assert port, "gunicorn did not start"
    threading.Thread(target=proc.stderr.read, daemon=True).start()
    time.sleep(2)
    try:
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def wrk(port, token):
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{CONNECTIONS}",
            f"-d{DURATION:.0f}s",
            "--latency",
            "-H",
            f"Authorization: Bearer {token}",
            f"http://127.0.0.1:{port}/api/integrations/status",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=DURATION + 60,
    ).stdout
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    p50, p99 = (re.search(rf"\s{q}%\s+([\d.]+)(us|ms|s)", out).groups() for q in (50, 99))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return rate, float(p50[0]) * scale[p50[1]], float(p99[0]) * scale[p99[1]], errors


def forced_burst(url, token):
    barrier, statuses = threading.Barrier(FORCED), []

    def one():
        with httpx.Client(timeout=30) as client:
            barrier.wait(10)
            statuses.append(
                client.get(
                    url, params={"force": "true"}, headers={"Authorization": f"Bearer {token}"}
                ).status_code
            )

    threads = [threading.Thread(target=one) for _ in range(FORCED)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return statuses, time.perf_counter() - started


def calls(sim):
    return {s: len(sim.calls(s, "GET" if s == "whatsapp" else None)) for s in PROBED}


@pytest.mark.parametrize("backend", ["locmem", "redis"])
def test_status_benchmark(bench, sim, backend):
    env = dict(bench["env"])
    if backend == "redis":
        env["CACHE_URL"] = f"redis://127.0.0.1:6379/8?key_prefix=bench-{secrets.token_hex(4)}"
    token = bench["token"]
    with gunicorn(env) as port:
        warm = httpx.get(
            f"http://127.0.0.1:{port}/api/integrations/status",
            params={"force": "true"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert warm.status_code == 200, warm.text
        print(f"\nstatus benchmark, cache {backend}: {DURATION:.0f} s, {os.cpu_count()} CPUs")
        if shutil.which("wrk"):
            rate, p50, p99, errors = wrk(port, token)
            print(
                f"{'GET /api/integrations/status cached, wrk (16 conns)':<52} {rate:8.0f} /s"
                f"   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   (goal p99 <= 10 ms)"
            )
            assert errors is None, errors.group(0)
        else:
            print("wrk not installed: no cached-rate figures")

        proxy = Proxy([("127.0.0.1", port)]).start()
        try:
            before = calls(sim)
            statuses, elapsed = forced_burst(f"{proxy.url}/api/integrations/status", token)
            after = calls(sim)
        finally:
            proxy.stop()
        probes = {s: after[s] - before[s] for s in PROBED}
        print(
            f"{FORCED} concurrent forced requests (through the proxy): {elapsed:.2f} s,"
            f" probe calls per integration {probes}   (goal: 1 each)"
        )
        assert statuses == [200] * FORCED

    if backend == "locmem":
        ms, queries = bench["manage"]("shell", "-c", PROFILE % {"token": token}).split()[-2:]
        print(f"in-process, one cached request with a staff token: {ms} ms, {queries} queries")
