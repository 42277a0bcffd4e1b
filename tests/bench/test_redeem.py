"""Redeem benchmark (`make bench`): the API under gunicorn vs the same redemption in raw SQL.

Creates its own database (<DATABASE_URL name>_redeem_bench), migrates it, loads
stations and fresh vouchers, then for a bounded time each:
1. raw SQL: psycopg threads, one transaction per voucher (conditional UPDATE … RETURNING
   + the redeemed event), i.e. the redemption with nothing around it;
2. the app's redeem statement (vouchers.redeem_sql) straight through psycopg, no HTTP;
3. POST /api/station/redeem on gunicorn (the repository's gunicorn.conf.py: sync workers,
   two per core) with 16 concurrent clients, each request a fresh voucher and key: first
   16 Python threads (a new connection per request), then wrk (C, keep-alive) if installed.
Prints rate, p50, p99 and the ratio of 3 to 1. Asserts correctness only.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
DURATION = float(os.environ.get("BENCH_SECONDS", "8"))
HTTP_CLIENTS = 16
SQL_THREADS = 8
STATIONS = 16
VOUCHERS_PER_PHASE = 60_000
# Extra gunicorn flags to compare setups, e.g. BENCH_GUNICORN_ARGS="-k gthread --threads 4".
GUNICORN_ARGS = os.environ.get("BENCH_GUNICORN_ARGS", "").split()

pytestmark = pytest.mark.slow


def _percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def _report(label, latencies, elapsed):
    rate = len(latencies) / elapsed
    print(
        f"{label:<44} {rate:8.0f} /s   p50 {_percentile(latencies, 0.5):6.2f} ms"
        f"   p99 {_percentile(latencies, 0.99):6.2f} ms   n={len(latencies)}"
    )
    return rate


def _run_for(duration, threads, work):
    """Run work(i, deadline) -> list[latency] in threads; returns (latencies, elapsed)."""
    results: list[list[float]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []
    start = time.perf_counter()
    deadline = start + duration

    def target(i):
        try:
            results[i] = work(i, deadline)
        except BaseException as exc:  # re-raised below in the test's thread
            errors.append(exc)

    pool = [threading.Thread(target=target, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if errors:
        raise errors[0]
    return [x for r in results for x in r], time.perf_counter() - start


@pytest.fixture(scope="module")
def bench_db():
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/opsportal")
    parsed = urlparse(base)
    name = parsed.path.lstrip("/") + "_redeem_bench"
    admin_url = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = parsed._replace(path=f"/{name}").geturl()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "false",
        "SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-0123",
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "REDEEM_RATE_LIMIT_PER_MINUTE": "100000000",
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    sys.path.insert(0, str(ROOT))
    from vouchers.tokens import station_token_hash

    tokens = [f"stn_bench-station-token-{i:04d}-abcdefghijklmnop" for i in range(STATIONS)]
    with psycopg.connect(url, autocommit=True) as conn:
        for i, token in enumerate(tokens):
            conn.execute(
                "INSERT INTO vouchers_station (code, name, active, token_hash, token_issued_at,"
                " created_at) VALUES (%s, %s, true, %s, now(), now())",
                [f"BENCH-{i:02d}", f"Bench {i}", station_token_hash(token)],
            )
        for prefix in ("SQL", "APP", "HTTP", "WRK"):
            conn.execute(
                "INSERT INTO vouchers_voucher (code, amount, currency, status, created_at)"
                " SELECT %s || '-' || g, 5000, 'RWF', 'issued', now()"
                " FROM generate_series(0, %s) AS g",
                [prefix, VOUCHERS_PER_PHASE - 1],
            )
        conn.execute("VACUUM ANALYZE")
        station_ids = [r[0] for r in conn.execute("SELECT id FROM vouchers_station ORDER BY code")]
    yield {"url": url, "env": env, "tokens": tokens, "station_ids": station_ids}
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _raw_sql_phase(url, station_ids):
    def work(i, deadline):
        latencies = []
        with psycopg.connect(url) as conn:
            n = i
            while time.perf_counter() < deadline and n < VOUCHERS_PER_PHASE:
                t0 = time.perf_counter()
                with conn.transaction():
                    row = conn.execute(
                        "UPDATE vouchers_voucher SET status = 'redeemed', redeemed_at = now(),"
                        " redeemed_by_id = %s WHERE code = %s AND status = 'issued'"
                        " RETURNING id",
                        [station_ids[i % STATIONS], f"SQL-{n}"],
                    ).fetchone()
                    conn.execute(
                        "INSERT INTO vouchers_voucherevent (voucher_id, kind, station_id,"
                        " actor_name, data, at) VALUES (%s, 'redeemed', %s, '', '{}', now())",
                        [row[0], station_ids[i % STATIONS]],
                    )
                latencies.append(time.perf_counter() - t0)
                n += SQL_THREADS
        return latencies

    return _run_for(DURATION, SQL_THREADS, work)


def _app_statement_phase(url, tokens):
    from vouchers.redeem_sql import REDEEM_SQL
    from vouchers.tokens import station_token_hash

    def work(i, deadline):
        latencies = []
        th = station_token_hash(tokens[i % STATIONS])
        with psycopg.connect(url, autocommit=True) as conn:
            n = i
            while time.perf_counter() < deadline and n < VOUCHERS_PER_PHASE:
                t0 = time.perf_counter()
                params = {
                    "th": th,
                    "l": 0,
                    "ok": True,
                    "k": f"a-{n}",
                    "c": f"APP-{n}",
                    "r": None,
                    "f": "f" * 64,
                    "lk": f"a-{n}",
                    "lc": f"APP-{n}",
                    "lr": "",
                    "q": "",
                    "ms": 0.0,
                    "ak": f"a-{n}",
                    "ar": None,
                }
                outcome = conn.execute(REDEEM_SQL, params, prepare=True).fetchone()[0]
                assert outcome == "redeemed", outcome
                latencies.append(time.perf_counter() - t0)
                n += SQL_THREADS
        return latencies

    return _run_for(DURATION, SQL_THREADS, work)


@pytest.fixture(scope="module")
def gunicorn(bench_db):
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "opsportal.wsgi:application",
            "--bind",
            "127.0.0.1:0",
            "--log-level",
            "info",
            *GUNICORN_ARGS,
        ],
        cwd=ROOT,
        env=bench_db["env"],
        stderr=subprocess.PIPE,
        text=True,
    )
    port = None
    deadline = time.time() + 30
    while time.time() < deadline and port is None:
        line = proc.stderr.readline()
        match = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line)
        if match:
            port = int(match.group(1))
    assert port, "gunicorn did not start"
    threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep the pipe drained
    time.sleep(2)  # let every worker boot
    yield port
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:  # a starved machine can be slow to stop workers
        proc.kill()
        proc.wait(timeout=10)


def _post(port, token, key, code):
    body = f'{{"code": "{code}"}}'.encode()
    request = (
        f"POST /api/station/redeem HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\nIdempotency-Key: {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"Connection: close\r\n\r\n"
    ).encode() + body
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return int(b"".join(chunks)[9:12])


def _http_phase(port, tokens):
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def work(i, deadline):
        latencies = []
        n = i
        token = tokens[i % STATIONS]
        while time.perf_counter() < deadline and n < VOUCHERS_PER_PHASE:
            t0 = time.perf_counter()
            status = _post(port, token, f"h-{n}", f"HTTP-{n}")
            latencies.append(time.perf_counter() - t0)
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
            n += HTTP_CLIENTS
        return latencies

    latencies, elapsed = _run_for(DURATION, HTTP_CLIENTS, work)
    return latencies, elapsed, statuses


WRK_THREADS = 2
WRK_SCRIPT = """
-- `tid` is the global each thread's setup() sets: a local of that name would shadow it
-- and make both threads send the same keys.
local n, tokens = 0, {}
local next_id = 0
function setup(thread) thread:set("tid", next_id); next_id = next_id + 1 end
function init(args) tokens = args end
function request()
  local i = tid + %(threads)d * n
  n = n + 1
  return wrk.format("POST", "/api/station/redeem", {
    ["Authorization"] = "Bearer " .. tokens[1 + (i %% #tokens)], ["Idempotency-Key"] = "w-" .. i,
    ["Content-Type"] = "application/json"}, '{"code": "WRK-' .. i .. '"}')
end
"""


def _wrk_phase(port, tokens, tmp_path):
    """The same requests from wrk (C, keep-alive): the server's rate without a Python
    client competing for the same two cores."""
    script = tmp_path / "redeem.lua"
    script.write_text(WRK_SCRIPT % {"threads": WRK_THREADS})
    out = subprocess.run(
        [
            "wrk",
            f"-t{WRK_THREADS}",
            f"-c{HTTP_CLIENTS}",
            f"-d{DURATION:.0f}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
            "--",
            *tokens,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=DURATION + 60,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50, p99 = (re.search(rf"\s{q}%\s+([\d.]+)(us|ms|s)", out).groups() for q in (50, 99))
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rate, float(p50[0]) * scale[p50[1]], float(p99[0]) * scale[p99[1]], errors


def _settle(url):
    """Start each phase from a vacuumed, checkpointed database: otherwise autovacuum and
    the checkpoint triggered by one phase's writes run during (and bill) the next."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")


def test_redeem_benchmark(bench_db, gunicorn, tmp_path):
    url, tokens = bench_db["url"], bench_db["tokens"]
    # Warm every worker (imports, connections) outside the measured window.
    for i in range(HTTP_CLIENTS):
        _post(gunicorn, tokens[0], f"warm-{i}", "WARM-UP-NONE")

    print(f"\nredeem benchmark: {DURATION:.0f} s per phase, {os.cpu_count()} CPUs")
    _settle(url)
    sql_lat, sql_s = _raw_sql_phase(url, bench_db["station_ids"])
    sql_rate = _report(f"raw SQL redemption ({SQL_THREADS} threads)", sql_lat, sql_s)
    _settle(url)
    app_lat, app_s = _app_statement_phase(url, tokens)
    _report(f"app redeem statement, psycopg ({SQL_THREADS} threads)", app_lat, app_s)
    _settle(url)
    http_lat, http_s, statuses = _http_phase(gunicorn, tokens)
    http_rate = _report(f"POST /api/station/redeem ({HTTP_CLIENTS} clients)", http_lat, http_s)
    print(f"ratio API / raw SQL: {100 * http_rate / sql_rate:.1f} %   (goal >= 25 %, p99 <= 20 ms)")
    print(f"HTTP statuses: {statuses}")
    if shutil.which("wrk"):
        _settle(url)
        rate, p50, p99, errors = _wrk_phase(gunicorn, tokens, tmp_path)
        print(
            f"{'POST /api/station/redeem, wrk (' + str(HTTP_CLIENTS) + ' conns)':<44}"
            f" {rate:8.0f} /s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms"
        )
        print(f"ratio API (wrk) / raw SQL: {100 * rate / sql_rate:.1f} %")
        assert errors is None, errors.group(0)
        with psycopg.connect(url) as conn:
            outcomes = dict(
                conn.execute(
                    "SELECT outcome, count(*) FROM vouchers_redeemattempt"
                    " WHERE idempotency_key LIKE 'w-%%' GROUP BY outcome"
                ).fetchall()
            )
        assert set(outcomes) == {"redeemed"}, outcomes  # every wrk request a fresh redemption
    else:
        print("wrk not installed (apt-get install wrk): Python client figures only")

    assert statuses == {200: len(http_lat)}
    with psycopg.connect(url) as conn:
        redeemed = conn.execute(
            "SELECT count(*) FROM vouchers_voucher WHERE code LIKE 'HTTP-%%' AND status = 'redeemed'"
        ).fetchone()[0]
        events = conn.execute(
            "SELECT count(*) FROM vouchers_voucherevent e JOIN vouchers_voucher v"
            " ON v.id = e.voucher_id WHERE v.code LIKE 'HTTP-%%'"
        ).fetchone()[0]
        audits = conn.execute(
            "SELECT count(*) FROM audit_auditentry WHERE action = 'voucher.redeemed'"
            " AND target_repr LIKE 'HTTP-%%'"
        ).fetchone()[0]
    assert redeemed == events == audits == len(http_lat)
