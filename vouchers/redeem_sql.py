"""The station redemption as ONE PostgreSQL statement, after the rate count (RATE_SQL).

Why one statement: the redeem API's budget is a few hundred microseconds of
server time (performance.md). Station lookup, the idempotency check, the voucher row
lock, the redemption, its event, the stored idempotent response, the attempt log and
the audit entry (built by `audit.services.audit_raw_insert`, which also redacts its
parameters) all happen in a single round trip — and, run in autocommit, a single
statement is its own transaction: no BEGIN/COMMIT trips. The Idempotency-Key and
reference as stored (event, attempt, audit) are the masked parameters `ak`/`ar`/`lk`/`lr`,
masked once in Python before the call (a regex over two short strings, which the audit
parameters needed already); the raw key `k` only matches idempotency records.

The per-station rate window is the one thing NOT in this statement: `RATE_SQL` counts the
request first, in its own short transaction, and this statement gets the verdict (`rl`).
Counted inside, the station's window row stayed locked until this statement committed,
WAL flush included, so every other redemption of the station queued behind it
(docs/performance-redeem.md). The window table is UNLOGGED (migration 0007): its
transaction writes no WAL, so its commit does not wait for a flush.

Concurrency, in READ COMMITTED:
- `RATE_SQL`'s upsert serialises a station's requests on its window row for that one
  statement: each request gets its own count, so exactly the first `limit` requests of a
  station's minute pass. A request is counted even if its redemption then fails.
- `v` locks the voucher row (`FOR UPDATE`); a concurrent redeemer waits and then
  sees the row's latest version, so a voucher is redeemed at most once.
- (station, key) is guarded by a transaction-scoped advisory lock taken without
  waiting: if another request holds it, this one answers `request_in_progress`.
- A request that takes the lock just after the holder committed may not see the
  holder's idempotency record in its (older) snapshot; its INSERT of the record
  then hits the unique constraint, the whole statement rolls back (nothing was
  redeemed), and the caller runs it again with a fresh snapshot (→ replay / 422).
"""

import re

from audit.services import Param, Sql, audit_raw_insert
from vouchers.redeem_outcomes import STORED_OUTCOMES, outcome_status_sql

# This request's number in its station's current minute (no row: unknown or inactive
# token, which the redeem statement answers as unauthorized). Run before REDEEM_SQL, as a
# transaction of its own when the connection is in autocommit.
RATE_SQL = (
    "INSERT INTO vouchers_redeemratewindow AS w (station_id, window_start, hits)"
    " SELECT id, date_trunc('minute', now()), 1 FROM vouchers_station"
    " WHERE token_hash = %(th)s::text AND active"
    " ON CONFLICT (station_id, window_start) DO UPDATE SET hits = w.hits + 1 RETURNING hits"
)

# The audit entry of a redemption; its parameters come from REDEEM_AUDIT.params(...).
REDEEM_AUDIT = audit_raw_insert(
    source="upd, d",
    at=Sql("now()"),
    actor_name=Sql("'station:' || d.scode"),
    action="voucher.redeemed",
    target_type="vouchers.voucher",
    target_id=Sql("d.vid::text"),
    target_repr=Sql("d.vcode"),
    data={
        "station": Sql("d.scode"),
        "amount": Sql("d.amount::text"),
        "currency": Sql("d.currency"),
        "idempotency_key": Param("ak"),
        "reference": Param("ar"),
    },
    request_id=Sql("%(q)s::text"),
)

# In the statement: `d` = the decision (outcome `o`), `x` = the response (status `hs`, body).
# bool_or over the voucher's scope rows: NULL (none) = any station; false = not this one.
_TS = """to_char(({}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""

REDEEM_SQL = f"""
WITH
st AS (
    SELECT id, code FROM vouchers_station WHERE token_hash = %(th)s::text AND active
),
g AS (
    SELECT st.id AS sid, st.code AS scode, %(rl)s::boolean AS limited FROM st
),
prev AS (
    SELECT r.fingerprint, r.status_code, r.body
    FROM vouchers_idempotencyrecord r JOIN g ON r.station_id = g.sid
    WHERE %(ok)s::boolean AND NOT g.limited AND r.key = %(k)s::text
),
lk AS (
    SELECT pg_try_advisory_xact_lock(hashtextextended(g.sid::text || ':' || %(k)s::text, 0)) AS got
    FROM g
    WHERE %(ok)s::boolean AND NOT g.limited AND NOT EXISTS (SELECT 1 FROM prev)
),
v AS MATERIALIZED (
    SELECT id, code, amount, currency, status, expires_at, redeemed_at, redeemed_by_id
    FROM vouchers_voucher
    WHERE code = %(c)s::text AND (SELECT got FROM lk)
    FOR UPDATE
),
d AS MATERIALIZED (
    SELECT
        CASE
            WHEN g.sid IS NULL THEN 'unauthorized'
            WHEN g.limited THEN 'rate_limited'
            WHEN NOT %(ok)s::boolean THEN 'invalid_request'
            WHEN p.fingerprint = %(f)s::text THEN 'replayed'
            WHEN p.fingerprint IS NOT NULL THEN 'idempotency_key_reused'
            WHEN NOT l.got THEN 'request_in_progress'
            WHEN v.id IS NULL THEN 'not_found'
            WHEN (SELECT bool_or(s.station_id = g.sid) FROM vouchers_voucher_station_scope s
                  WHERE s.voucher_id = v.id) = false THEN 'out_of_scope'
            WHEN v.status = 'void' THEN 'voucher_void'
            WHEN v.status = 'redeemed' THEN 'already_redeemed'
            WHEN v.status = 'expired' OR v.expires_at <= now() THEN 'voucher_expired'
            WHEN v.status = 'issued' THEN 'redeemed'
            ELSE 'voucher_void'
        END AS o,
        g.sid, g.scode, p.status_code AS ps, p.body AS pb,
        v.id AS vid, v.code AS vcode, v.amount, v.currency,
        v.redeemed_at AS pra, v.redeemed_by_id AS prb
    FROM (SELECT 1) AS one
    LEFT JOIN g ON true
    LEFT JOIN prev p ON true
    LEFT JOIN lk l ON true
    LEFT JOIN v ON true
),
upd AS (
    UPDATE vouchers_voucher AS u
    SET status = 'redeemed', redeemed_at = now(), redeemed_by_id = d.sid
    FROM d
    WHERE u.id = d.vid AND d.o = 'redeemed'
    RETURNING u.id
),
x AS MATERIALIZED (
    SELECT
        d.o,
        {outcome_status_sql(outcome="d.o", replayed_status="d.ps")} AS hs,
        CASE d.o
            WHEN 'redeemed' THEN jsonb_build_object(
                'status', 'redeemed',
                'voucher', jsonb_build_object(
                    'code', d.vcode,
                    'amount', d.amount::text,
                    'currency', d.currency,
                    'redeemed_at', {_TS.format("now()")},
                    'station', d.scode))
            WHEN 'replayed' THEN d.pb
            WHEN 'already_redeemed' THEN jsonb_build_object(
                'error', 'already_redeemed',
                'redeemed_at', {_TS.format("d.pra")},
                'station', (SELECT code FROM vouchers_station WHERE id = d.prb))
            ELSE jsonb_build_object('error', d.o)
        END AS body
    FROM d
),
ev AS (
    INSERT INTO vouchers_voucherevent (voucher_id, kind, station_id, actor_name, data, at)
    SELECT upd.id, 'redeemed', d.sid, 'station:' || d.scode,
           jsonb_build_object('idempotency_key', %(ak)s::text, 'reference', %(ar)s::text), now()
    FROM upd, d
),
au AS (
    {REDEEM_AUDIT.sql}
),
idem AS (
    INSERT INTO vouchers_idempotencyrecord
        (station_id, key, fingerprint, status_code, body, created_at)
    SELECT d.sid, %(k)s::text, %(f)s::text, x.hs, x.body, now()
    FROM x, d
    WHERE x.o IN ({", ".join(f"'{o}'" for o in STORED_OUTCOMES)})
),
att AS (
    INSERT INTO vouchers_redeemattempt
        (at, station_id, idempotency_key, code, reference, outcome, http_status,
         latency_ms, request_id)
    SELECT now(), d.sid, %(lk)s::text, %(lc)s::text, %(lr)s::text, x.o, x.hs,
           %(ms)s::float8 + 1000 * extract(epoch FROM clock_timestamp() - statement_timestamp()),
           %(q)s::text
    FROM x, d
)
SELECT x.o, x.hs, x.body::text FROM x
"""


def sql_compact(sql: str) -> str:
    """Whitespace collapsed (none of the statement's string literals holds a space, comma
    or parenthesis): psycopg caches its parsing of queries up to 4096 bytes only."""
    return re.sub(r"\s*([(),=<>+*|-])\s*", r"\1", re.sub(r"\s+", " ", sql)).strip()


REDEEM_SQL = sql_compact(REDEEM_SQL)
