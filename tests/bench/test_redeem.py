"""Redeem benchmark (`make bench`): the portal against the PostgreSQL floor, in one run.

Creates its own database (<DATABASE_URL name>_redeem_bench), migrates it, loads stations and
fresh vouchers, then for BENCH_SECONDS each (docs/performance-redeem.md):
1. the floor: pgbench (8 clients, prepared) running the two writes every redemption must
   make — the voucher UPDATE … RETURNING and the redeemed event INSERT — in one transaction;
2. the portal's own database work through pgbench, same clients and data shape: the rate
   count (vouchers.redeem_sql.RATE_SQL) and the redeem statement (REDEEM_SQL);
3. POST /api/station/redeem through wrk (16 connections, keep-alive) against gunicorn with
   the repository's conf: p50, p99;
4. the ratios 2 / 1 and 3 / 1 (goals: ≥ 50 %, and ≥ 25 % with p99 ≤ 20 ms).
Every transaction and request redeems a fresh voucher for a station drawn from 16. After each
phase: no voucher redeemed twice, one event (and for the portal one audit entry and one
attempt) per redemption. Extra rows: raw SQL from Python threads (bound by the GIL) and the
API from 16 Python threads. BENCH_REDEEM_BREAKDOWN=1 adds pgbench rows for the statement
with one part left out (where its time goes). The load average is printed with every row:
other work on the machine moves absolute numbers, the ratios less. Asserts correctness only.
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

from tests.bench import redeem_pgbench as pgb

ROOT = Path(__file__).resolve().parents[2]
DURATION = float(os.environ.get("BENCH_SECONDS", "8"))
HTTP_CLIENTS = 16
SQL_THREADS = 8
PGBENCH_CLIENTS = 8
STATIONS = 16
VOUCHERS_PER_PHASE = 60_000
# Fresh vouchers per pgbench client and phase: more than the fastest client can redeem.
PGBENCH_VOUCHERS = int(DURATION * 1500) + 1000
RATE_LIMIT = 100_000_000  # counted on every request, never reached
BREAKDOWN = os.environ.get("BENCH_REDEEM_BREAKDOWN", "") == "1"
# Extra gunicorn flags to compare setups, e.g. BENCH_GUNICORN_ARGS="-k gthread --threads 4".
GUNICORN_ARGS = os.environ.get("BENCH_GUNICORN_ARGS", "").split()

pytestmark = pytest.mark.slow


def _percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def _row(label, rate, detail):
    print(f"{label:<46} {rate:8.0f} /s   {detail:<36} load {pgb.load_average()}", flush=True)
    return rate


def _report(label, latencies, elapsed):
    return _row(
        label,
        len(latencies) / elapsed,
        f"p50 {_percentile(latencies, 0.5):6.2f} ms   p99 {_percentile(latencies, 0.99):6.2f} ms",
    )


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
        "REDEEM_RATE_LIMIT_PER_MINUTE": str(RATE_LIMIT),
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
        for prefix in ("SQL", "HTTP", "WRK"):
            conn.execute(
                "INSERT INTO vouchers_voucher (code, amount, currency, status, created_at)"
                " SELECT %s || '-' || g, 5000, 'RWF', 'issued', now()"
                " FROM generate_series(0, %s) AS g",
                [prefix, VOUCHERS_PER_PHASE - 1],
            )
        conn.execute("VACUUM ANALYZE")
        station_ids = [r[0] for r in conn.execute("SELECT id FROM vouchers_station ORDER BY code")]
    yield {
        "url": url,
        "env": env,
        "tokens": tokens,
        "station_ids": station_ids,
        "pgbench_sid0": pgb.stations_add(url, STATIONS),
    }
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
    yield {"port": port, "pid": proc.pid}
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
-- and make both threads send the same keys. Each request: the next fresh voucher of this
-- thread, a station drawn at random from the tokens.
local n, tokens = 0, {}
local next_id = 0
function setup(thread) thread:set("tid", next_id); next_id = next_id + 1 end
function init(args) tokens = args; math.randomseed(tid + 1) end
function request()
  local i = tid + %(threads)d * n
  n = n + 1
  return wrk.format("POST", "/api/station/redeem", {
    ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)], ["Idempotency-Key"] = "w-" .. i,
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
    pgb.settle_and_time(url)


def _redemptions_check(url, where, *, expected=None, portal=True, events=True):
    """No voucher redeemed twice among the phase's vouchers (`where` over v.code); one
    event per redemption and, for the portal, one audit entry and one redeemed attempt;
    the number of redemptions. One snapshot: gunicorn may still be finishing the
    requests wrk had in flight."""
    with psycopg.connect(url) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        redeemed, event_count, doubles = conn.execute(
            "SELECT count(DISTINCT v.id), count(e.id), count(e.id) - count(DISTINCT e.voucher_id)"
            " FROM vouchers_voucher v LEFT JOIN vouchers_voucherevent e"
            f" ON e.voucher_id = v.id AND e.kind = 'redeemed' WHERE v.status = 'redeemed' AND {where}"
        ).fetchone()
        assert doubles == 0, f"{doubles} vouchers redeemed twice"
        assert event_count == (redeemed if events else 0), (event_count, redeemed)
        if expected is not None:
            assert redeemed == expected, (redeemed, expected)
        if portal:
            audits = conn.execute(
                "SELECT count(*) FROM audit_auditentry a JOIN vouchers_voucher v"
                " ON a.target_type = 'vouchers.voucher' AND a.target_id = v.id::text"
                f" WHERE a.action = 'voucher.redeemed' AND {where}"
            ).fetchone()[0]
            attempts = dict(
                conn.execute(
                    "SELECT outcome, count(*) FROM vouchers_redeemattempt v"
                    f" WHERE {where} GROUP BY outcome"
                ).fetchall()
            )
            assert audits == redeemed, (audits, redeemed)
            assert attempts == {"redeemed": redeemed}, attempts
    return redeemed


def _pgbench_phase(bench_db, label, script, base, tmp_path, *, portal=True, events=True):
    url = bench_db["url"]
    pgb.vouchers_load(url, base, PGBENCH_CLIENTS, PGBENCH_VOUCHERS)
    _settle(url)
    result = pgb.pgbench_run(
        url,
        script,
        base=base,
        sid0=bench_db["pgbench_sid0"],
        clients=PGBENCH_CLIENTS,
        seconds=DURATION,
        workdir=tmp_path,
    )
    _row(label, result.tps, f"mean {result.latency_ms:6.2f} ms")
    print(
        f"{'':<6}PostgreSQL CPU {result.backend_cpu_ms:.2f} ms a transaction;"
        f" backends: {pgb.waits_summary(result)}"
    )
    hi = base + PGBENCH_CLIENTS * pgb.CLIENT_STRIDE
    where = f"v.code BETWEEN '{base}' AND '{hi}' AND length(v.code) = {len(str(base))}"
    _redemptions_check(url, where, expected=result.transactions, portal=portal, events=events)
    return result.tps


BREAKDOWN_VARIANTS = {  # the statement with one part replaced by a no-op
    "without the audit entry": ("au", "SELECT 1"),
    "without the attempt log": ("att", "SELECT 1"),
    "without the idempotency record": ("idem", "SELECT 1"),
    "without the event": ("ev", "SELECT 1"),
}


def _breakdown(bench_db, tmp_path, base):
    print("breakdown (pgbench, 8 clients; each row leaves one part out):")
    _pgbench_phase(
        bench_db,
        "  statement without the rate count",
        pgb.statement_script(limit=RATE_LIMIT, rate_sql=None),
        base,
        tmp_path,
    )
    for i, (label, (cte, body)) in enumerate(BREAKDOWN_VARIANTS.items(), start=1):
        sql = pgb.cte_replace(pgb.REDEEM_SQL, cte, body)
        _pgbench_phase(
            bench_db,
            f"  {label}",
            pgb.statement_script(sql, limit=RATE_LIMIT),
            base + i * 10**9,
            tmp_path,
            portal=False,
            events=cte != "ev",
        )


def test_redeem_benchmark(bench_db, gunicorn, tmp_path):
    assert pgb.PGBENCH and shutil.which("wrk"), "needs pgbench and wrk (apt-get install wrk)"
    url, tokens = bench_db["url"], bench_db["tokens"]
    # Warm every worker (imports, connections) outside the measured window.
    for i in range(HTTP_CLIENTS):
        _post(gunicorn["port"], tokens[0], f"warm-{i}", "WARM-UP-NONE")

    print(
        f"\nredeem benchmark: {DURATION:.0f} s per phase, {os.cpu_count()} CPUs,"
        f" load average {pgb.load_average()}"
    )
    floor = _pgbench_phase(
        bench_db,
        f"floor: 2 writes, pgbench ({PGBENCH_CLIENTS} clients)",
        pgb.floor_script(),
        10**9,
        tmp_path,
        portal=False,
    )
    statement = _pgbench_phase(
        bench_db,
        f"portal statements, pgbench ({PGBENCH_CLIENTS} clients)",
        pgb.statement_script(limit=RATE_LIMIT),
        2 * 10**9,
        tmp_path,
    )
    _settle(url)
    processes = {
        "gunicorn workers": pgb.children(gunicorn["pid"]),
        "PostgreSQL backends": pgb.backend_pids(url),
    }
    cpu_before = {name: [pgb.cpu_seconds(p) for p in pids] for name, pids in processes.items()}
    rate, p50, p99, errors = _wrk_phase(gunicorn["port"], tokens, tmp_path)
    cpu = {
        name: sum(pgb.cpu_seconds(p) for p in pids) - sum(cpu_before[name])
        for name, pids in processes.items()
    }
    _row(
        f"POST /api/station/redeem, wrk ({HTTP_CLIENTS} conns)",
        rate,
        f"p50 {p50:6.2f} ms   p99 {p99:6.2f} ms",
    )
    assert errors is None, errors.group(0)
    served = _redemptions_check(url, "v.code LIKE 'WRK-%'")
    print(
        f"{'':<6}CPU per request: "
        + ", ".join(f"{name} {1000 * seconds / served:.2f} ms" for name, seconds in cpu.items())
    )
    print(
        f"ratio statements / floor: {100 * statement / floor:5.1f} %   (goal >= 50 %)\n"
        f"ratio API / floor:        {100 * rate / floor:5.1f} %   (goal >= 25 %,"
        f" p99 {p99:.1f} ms, goal <= 20 ms)"
    )

    print("extra rows (Python clients, bound by the GIL):")
    _settle(url)
    sql_lat, sql_s = _raw_sql_phase(url, bench_db["station_ids"])
    _report(f"  raw SQL redemption ({SQL_THREADS} threads)", sql_lat, sql_s)
    _redemptions_check(url, "v.code LIKE 'SQL-%'", expected=len(sql_lat), portal=False)
    _settle(url)
    http_lat, http_s, statuses = _http_phase(gunicorn["port"], tokens)
    _report(f"  POST /api/station/redeem ({HTTP_CLIENTS} threads)", http_lat, http_s)
    assert statuses == {200: len(http_lat)}, statuses
    _redemptions_check(url, "v.code LIKE 'HTTP-%'", expected=len(http_lat))
    if BREAKDOWN:
        _breakdown(bench_db, tmp_path, 3 * 10**9)
