"""POST /api/station/redeem: request validation and the redemption service.

The view hands the raw request parts to `redeem_request_process`; everything the
contract promises (docs/contracts.md) is decided here and in one SQL statement
(`vouchers.redeem_sql`). The station token is only ever hashed, never stored,
logged or echoed.
"""

import hashlib
import json
import re
import time
from dataclasses import dataclass, field

import psycopg
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

import audit
from audit.redaction import mask_text
from vouchers.redeem_orm import redeem_orm_run
from vouchers.redeem_sql import RATE_SQL, REDEEM_AUDIT, REDEEM_SQL
from vouchers.tokens import station_token_hash

MAX_BODY_BYTES = 4096
MAX_CODE_LENGTH = 64
MAX_REFERENCE_LENGTH = 64
ALLOWED_FIELDS = frozenset({"code", "reference"})
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")
_BEARER = re.compile(r"Bearer ([\x21-\x7e]{1,512})")
_RETRIES_AFTER_KEY_RACE = 3
# The server no longer has our prepared statement (a pooler or DISCARD ALL dropped it)
# or refuses its cached plan (a migration changed a result type): psycopg would keep
# asking for it and every redeem on this connection would fail until it is recycled.
_STALE_PREPARED_STATEMENT = frozenset({"26000", "42P05", "0A000"})


class InvalidRequest(ValueError):
    """The request breaks the contract's input rules → 400 invalid_request."""


@dataclass
class RedeemResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    outcome: str = ""  # vouchers.redeem_outcomes (counted by the view for /metrics)


@dataclass(frozen=True)
class RedeemInput:
    code: str
    reference: str | None
    fingerprint: str


def _reject_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise InvalidRequest("duplicate field")
    return dict(pairs)


def _reject_constant(name):
    raise InvalidRequest(f"{name} is not JSON")


def _printable(value: str) -> bool:
    # isprintable() also refuses lone surrogates and NUL, which PostgreSQL cannot store.
    return value.isprintable()


def redeem_body_parse(*, content_type: str, body: bytes) -> RedeemInput:
    """The validated body, or InvalidRequest saying what is wrong (no secrets in it)."""
    if content_type != "application/json":
        raise InvalidRequest("Content-Type must be application/json")
    if len(body) > MAX_BODY_BYTES:
        raise InvalidRequest(f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(
            body, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant
        )
    except InvalidRequest:
        raise
    except (ValueError, RecursionError):
        raise InvalidRequest("body is not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidRequest("body must be a JSON object")
    unknown = set(data) - ALLOWED_FIELDS
    if unknown:
        raise InvalidRequest("unknown fields: " + ", ".join(sorted(unknown))[:200])
    code = data.get("code")
    if not isinstance(code, str) or not code.strip():
        raise InvalidRequest("code is required (a non-empty string)")
    if len(code) > MAX_CODE_LENGTH or not _printable(code):
        raise InvalidRequest(f"code must be at most {MAX_CODE_LENGTH} printable characters")
    reference = data.get("reference")
    if "reference" in data:
        if not isinstance(reference, str):
            raise InvalidRequest("reference must be a string")
        if len(reference) > MAX_REFERENCE_LENGTH or not _printable(reference):
            raise InvalidRequest(
                f"reference must be at most {MAX_REFERENCE_LENGTH} printable characters"
            )
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return RedeemInput(
        code=code.strip().upper(),
        reference=reference,
        fingerprint=hashlib.sha256(canonical.encode()).hexdigest(),
    )


def _loggable(value: str | None, limit: int) -> str:
    """A value from the request as it may be stored in the attempt log."""
    if not value:
        return ""
    value = value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")
    return value[:limit]


def _json(body: dict) -> bytes:
    return json.dumps(body, separators=(", ", ": ")).encode()


def redeem_request_process(
    *,
    authorization: str,
    idempotency_key: str | None,
    content_type: str,
    body: bytes,
    request_id: str = "",
    started: float | None = None,
) -> RedeemResponse:
    """Decide and record one redeem call. Never raises for bad input."""
    started = started if started is not None else time.perf_counter()
    match = _BEARER.fullmatch(authorization or "")
    token_hash = station_token_hash(match.group(1)) if match else ""

    detail = ""
    parsed: RedeemInput | None = None
    try:
        if idempotency_key is None or not IDEMPOTENCY_KEY.fullmatch(idempotency_key):
            raise InvalidRequest("Idempotency-Key header must be 1-255 visible ASCII characters")
        parsed = redeem_body_parse(content_type=content_type, body=body)
    except InvalidRequest as exc:
        detail = str(exc)

    # What is STORED of the key and the reference (the event, the attempt, the audit entry)
    # is masked like every stored text (audit.redaction); the raw key only matches records.
    # Masked once, here, for all three: the statement stays one round trip.
    masked = REDEEM_AUDIT.params(
        idempotency_key=idempotency_key if parsed else "",
        reference=parsed.reference if parsed else None,
    )
    params = {  # names kept short: see the length note in redeem_sql
        "th": token_hash,
        "l": settings.REDEEM_RATE_LIMIT_PER_MINUTE,
        "ok": parsed is not None,
        "k": idempotency_key if parsed else "",
        "c": parsed.code if parsed else "",
        "r": parsed.reference if parsed else None,
        "f": parsed.fingerprint if parsed else "",
        "lk": masked["ak"] if parsed else mask_text(_loggable(idempotency_key, 255)),
        "lc": parsed.code if parsed else "",
        "lr": masked["ar"] or "",
        "q": request_id[:64],
        **masked,  # "ak", "ar": the audit entry's and the event's key and reference
    }
    if _engine() == "sql":
        params["rl"] = _rate_limited(token_hash)  # counted once, before any retry
    for attempt in range(_RETRIES_AFTER_KEY_RACE):
        params["ms"] = (time.perf_counter() - started) * 1000
        try:
            outcome, status, body_text = _redeem_execute(params)
            break
        except IntegrityError:
            # Lost the race described in redeem_sql: nothing was written; run again
            # with a fresh snapshot, which now sees the other request's record.
            if attempt == _RETRIES_AFTER_KEY_RACE - 1:
                raise

    headers: dict[str, str] = {}
    if outcome == "invalid_request":
        return RedeemResponse(
            400, _json({"error": "invalid_request", "detail": detail}), outcome=outcome
        )
    if outcome == "unauthorized":
        headers["WWW-Authenticate"] = 'Bearer realm="station"'
    elif outcome == "rate_limited":
        # The rate window is the calendar minute (vouchers_redeemratewindow).
        headers["Retry-After"] = str(60 - timezone.now().second)
    elif outcome == "replayed":
        headers["Idempotent-Replayed"] = "true"
    return RedeemResponse(status, body_text.encode(), headers, outcome)


def _statement_run(params: dict, sql: str = REDEEM_SQL) -> tuple | None:
    """Run `sql` as a prepared statement on the request's connection; its first row.

    Django's cursors bind parameters client-side, so PostgreSQL would plan the large
    redeem statement on every call (≈ 3–6 ms, more than executing it). A psycopg
    server-binding cursor with prepare=True plans it once per persistent connection.
    """
    connection.ensure_connection()
    with connection.wrap_database_errors:
        cursor = psycopg.Cursor(connection.connection)
        try:
            return cursor.execute(sql, params, prepare=True).fetchone()
        finally:
            cursor.close()


def _rate_limited(token_hash: str) -> bool:
    """Count this request in its station's minute (RATE_SQL); whether it is over the limit.

    In autocommit the count commits at once, so the window row is not held while the
    redemption runs and commits (redeem_sql). An unknown token counts nowhere.
    """
    limit = settings.REDEEM_RATE_LIMIT_PER_MINUTE
    if limit <= 0:  # no limit: nothing to count, no round trip
        return False
    row = _prepared_retry(lambda: _statement_once({"th": token_hash}, RATE_SQL))
    return row is not None and row[0] > limit


def _engine() -> str:
    engine = getattr(settings, "REDEEM_ENGINE", "auto")
    if engine == "auto":
        return "sql" if connection.vendor == "postgresql" else "orm"
    return engine


def _statement_once(params: dict, sql: str = REDEEM_SQL) -> tuple | None:
    if connection.in_atomic_block:
        with transaction.atomic():  # a savepoint, so a lost key race can be retried
            return _statement_run(params, sql)
    # Autocommit: each statement (the redemption's with its audit row) is its own
    # transaction: no BEGIN/COMMIT round trips.
    return _statement_run(params, sql)


def _prepared_retry(run):
    """run(), run once more if the server lost our prepared statement."""
    try:
        return run()
    except DatabaseError as exc:
        if getattr(exc.__cause__, "sqlstate", None) not in _STALE_PREPARED_STATEMENT:
            raise
        # Nothing was written. Inside a transaction the savepoint's rollback already
        # made psycopg forget its prepared statements; otherwise start afresh.
        if not connection.in_atomic_block:
            connection.close()
        return run()


def _redeem_execute(params: dict) -> tuple[str, int, str]:
    if _engine() == "sql":
        return _prepared_retry(lambda: _statement_once(params))
    with transaction.atomic():
        row = redeem_orm_run(params)
        outcome, status, body, vid, vcode, scode, amount, currency, _ra = row
        if outcome == "redeemed":
            audit.record(
                action="voucher.redeemed",
                actor_name=f"station:{scode}",
                target_type="vouchers.voucher",
                target_id=vid,
                target_repr=vcode,
                data={
                    "station": scode,
                    "amount": amount,
                    "currency": currency,
                    "idempotency_key": params["k"],
                    "reference": params["r"],
                },
                request_id=params["q"],
            )
    return outcome, status, body
