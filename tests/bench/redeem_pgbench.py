"""The redeem benchmark's PostgreSQL-side phases, run by `pgbench` (C clients, prepared).

- the floor: the two writes every redemption must make (the voucher UPDATE … RETURNING and
  the event INSERT) as one transaction;
- the portal's own statement (vouchers.redeem_sql.REDEEM_SQL) with the same data shape;
- variants of that statement with one part replaced, to see where its time goes.

Each transaction draws its station from 16 (`\\set s random(0, 15)`) and redeems a fresh
voucher: per client a counter `n` (pgbench variables live as long as the client), so client
c's k-th transaction redeems code `base + c·10⁶ + k`, loaded beforehand by `vouchers_load`.
One script per phase: pgbench 15 loses its prepared statements when `-M prepared` runs
several scripts. So the stations these phases use (`stations_add`) have consecutive ids and
numbers as token hashes (`TOKEN_HASH_BASE + s`): the script computes both from `s`.
"""

import os
import re
import shutil
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import psycopg

from vouchers.redeem_sql import RATE_SQL, REDEEM_SQL

PGBENCH = shutil.which("pgbench")
CLIENT_STRIDE = 1_000_000
# The statement's parameters as pgbench sees them: the voucher's code also serves as the
# request's idempotency key; the other parameters are the app phase's constant values.
_CODE = ":v"
STATEMENT_VALUES = {
    "k": _CODE,
    "c": _CODE,
    "lk": _CODE,
    "lc": _CODE,
    "ak": _CODE,
    "ok": "true",
    "f": "'" + "f" * 64 + "'",
    "lr": "''",
    "q": "''",
    "ms": "0",
    "ar": "NULL",
}
TOKEN_HASH_BASE = 1_000_000
FLOOR_SQL = (
    "BEGIN;\n"
    "UPDATE vouchers_voucher SET status = 'redeemed', redeemed_at = now(),"
    " redeemed_by_id = :sid WHERE code = :v::text AND status = 'issued' RETURNING id \\gset\n"
    "INSERT INTO vouchers_voucherevent (voucher_id, kind, station_id, actor_name, data, at)"
    " VALUES (:id, 'redeemed', :sid, '', '{}', now());\n"
    "END;\n"
)
# Per transaction: the next fresh voucher `v` and a station `s` drawn from 16 (its id
# `sid`, its token hash `th`).
_DRAW = (
    f"\\set n :n + 1\n\\set v :base + :client_id * {CLIENT_STRIDE} + :n\n"
    f"\\set s random(0, 15)\n\\set sid :sid0 + :s\n\\set th {TOKEN_HASH_BASE} + :s\n"
)


@dataclass
class PgbenchResult:
    tps: float
    latency_ms: float
    transactions: int
    waits: Counter = field(default_factory=Counter)
    samples: int = 0
    cpu: dict = field(default_factory=dict)  # backend pid → CPU seconds (first, last) seen

    @property
    def backend_cpu_ms(self) -> float:
        """PostgreSQL backends' CPU per transaction: robust to other load, unlike rates."""
        used = sum(last - first for first, last in self.cpu.values())
        return 1000 * used / max(1, self.transactions)


def pgbench_statement(sql: str, values: dict[str, str]) -> str:
    """A psycopg statement (`%(name)s` parameters) as a pgbench command on one line."""

    def value(match):
        return values[match.group(1)]

    # pgbench would take `:MI` in a to_char format for a variable: the same format with
    # the colons quoted (to_char prints quoted text as it is).
    sql = sql.replace("HH24:MI:SS", 'HH24":"MI":"SS')
    sql = re.sub(r"%\((\w+)\)s", value, sql).replace("%%", "%").replace("\n", " ").strip()
    stray = set(re.findall(r"(?<!:):(\w+)", sql)) - {"v", "th", "rl", "text", "boolean"}
    assert not stray, f"pgbench would read these as variables: {stray}"
    return sql + ";\n"


def cte_replace(sql: str, name: str, body: str) -> str:
    """`sql` with the WITH-query `name` replaced by `body` (a variant for the breakdown)."""
    start = re.search(rf"\b{name} AS( MATERIALIZED)? ?\(", sql)
    assert start, name
    depth, i = 1, start.end()
    while depth:
        depth += {"(": 1, ")": -1}.get(sql[i], 0)
        i += 1
    return sql[: start.start()] + f"{name} AS ({body})" + sql[i:]


def floor_script() -> str:
    return _DRAW + FLOOR_SQL


def statement_script(sql: str = REDEEM_SQL, *, limit: int, rate_sql: str | None = RATE_SQL) -> str:
    """What the portal runs per redemption: the rate count (RATE_SQL, `hits`), the verdict
    against `limit` (`rl`), then the redeem statement. `rate_sql=None`: the statement
    alone, never limited (a breakdown variant)."""
    values = {**STATEMENT_VALUES, "th": ":th", "rl": ":rl"}
    count = "\\set rl 0\n"
    if rate_sql:
        count = pgbench_statement(rate_sql, values).replace(";\n", " \\gset\n")
        count += f"\\set rl :hits > {limit}\n"
    return _DRAW + count + pgbench_statement(sql, values)


def stations_add(url: str, count: int = 16) -> int:
    """`count` active stations with consecutive ids for the pgbench phases; the first id."""
    with psycopg.connect(url, autocommit=True) as conn:
        ids = [
            row[0]
            for row in conn.execute(
                "INSERT INTO vouchers_station (code, name, active, token_hash, token_issued_at,"
                " created_at) SELECT 'PGB-' || i, 'pgbench ' || i, true, (%s + i)::text, now(),"
                " now() FROM generate_series(0, %s) AS i ORDER BY i RETURNING id",
                [TOKEN_HASH_BASE, count - 1],
            )
        ]
    assert ids == list(range(ids[0], ids[0] + count)), ids
    return ids[0]


def vouchers_load(url: str, base: int, clients: int, per_client: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO vouchers_voucher (code, amount, currency, status, created_at)"
            " SELECT (%s::bigint + c * %s + n)::text, 5000, 'RWF', 'issued', now()"
            " FROM generate_series(0, %s) AS c, generate_series(1, %s) AS n",
            [base, CLIENT_STRIDE, clients - 1, per_client],
        )


def _wait_sampler(url: str, database: str, stop: threading.Event, result: PgbenchResult):
    """What the benchmark's backends are doing, sampled every 20 ms: CPU (active, no wait
    event), a wait event (Lock:transactionid = waiting for another transaction's row,
    Client:ClientRead = waiting for the client inside a transaction, IO:WALSync = commit)."""
    with psycopg.connect(url, autocommit=True) as conn:
        while not stop.wait(0.02):
            rows = conn.execute(
                "SELECT CASE WHEN state = 'idle' THEN 'idle (between transactions)'"
                " ELSE coalesce(wait_event_type || ':' || wait_event, 'CPU') END, pid"
                " FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
                " AND backend_type = 'client backend'",
                [database],
            ).fetchall()
            result.samples += 1
            result.waits.update(r[0] for r in rows)
            for _, pid in rows:  # other sessions (gunicorn's) count only from now on
                now = cpu_seconds(pid)
                first, last = result.cpu.get(pid, (now, now))
                result.cpu[pid] = (first, max(last, now))


def pgbench_run(
    url: str, script: str, *, base: int, sid0: int, clients: int, seconds: float, workdir: Path
) -> PgbenchResult:
    """Run `script` with `clients` clients, prepared, for `seconds`."""
    parsed = urlparse(url)
    database = parsed.path.lstrip("/")
    args = [PGBENCH, "-n", "-M", "prepared", "-c", str(clients), "-j", "2"]
    args += [
        "-T",
        str(max(1, round(seconds))),
        "-D",
        "n=0",
        "-D",
        f"base={base}",
        "-D",
        f"sid0={sid0}",
    ]
    args += ["-h", parsed.hostname or "127.0.0.1", "-p", str(parsed.port or 5432)]
    args += ["-U", parsed.username or "postgres"]
    path = workdir / f"pgbench-{base}.sql"
    path.write_text(script)
    args += ["-f", str(path)]
    result = PgbenchResult(0.0, 0.0, 0)
    stop = threading.Event()
    sampler = threading.Thread(target=_wait_sampler, args=(url, database, stop, result))
    sampler.start()
    try:
        out = subprocess.run(
            [*args, database], capture_output=True, text=True, timeout=seconds + 120
        )
    finally:
        stop.set()
        sampler.join()
    assert out.returncode == 0, out.stderr[-2000:]
    result.tps = float(re.search(r"tps = ([\d.]+)", out.stdout).group(1))
    result.latency_ms = float(re.search(r"latency average = ([\d.]+) ms", out.stdout).group(1))
    result.transactions = int(
        re.search(r"number of transactions actually processed: (\d+)", out.stdout).group(1)
    )
    return result


def waits_summary(result: PgbenchResult, top: int = 4) -> str:
    """Where the clients' backends were, as shares of (samples × clients)."""
    total = sum(result.waits.values()) or 1
    return ", ".join(f"{name} {100 * n / total:.0f} %" for name, n in result.waits.most_common(top))


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process on this machine (0 once it has exited)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (gunicorn's workers)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except OSError:
                continue
    return found


def backend_pids(url: str) -> list[int]:
    database = urlparse(url).path.lstrip("/")
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'",
            [database],
        ).fetchall()
    return [r[0] for r in rows]


def load_average() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def settle_and_time(url: str) -> float:
    """VACUUM ANALYZE and CHECKPOINT (so one phase's cleanup doesn't bill the next)."""
    t0 = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")
    return time.perf_counter() - t0
