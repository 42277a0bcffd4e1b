"""What one send attempt means for its target, and writing a batch of them at once.

Rules (issue 5): throttling → the whole campaign backs off, the target is
rescheduled, not failed; 131056 → only that recipient waits; invalid number →
`invalid`, never retried; 5xx/timeout → bounded retries with backoff, then
`failed` with the last error code.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from campaigns.models import SendResult, Target
from integrations.errors import IntegrationError, NotConfigured, RateLimited, Rejected, Timeout

INVALID_CODES = frozenset({"invalid_number", "131026", "131030"})
RECIPIENT_THROTTLE_CODES = frozenset({"131056"})
RECIPIENT_RETRY_SECONDS = 6.0  # WhatsApp: about one message per 6 s to the same recipient
# Platform-level refusals: the whole campaign waits for a fix instead of failing every target.
CAMPAIGN_WIDE_STATUSES = frozenset({401, 403, 404})


@dataclass(slots=True)
class Outcome:
    target_id: int
    phone: str
    status: str
    attempts: int
    result: str  # the SendResult outcome
    next_attempt_at: dt.datetime | None = None
    message_id: str = ""
    error_code: str = ""
    # Seconds the whole campaign must wait (None: no campaign-wide backoff).
    campaign_backoff: float | None = None
    retry_after_known: bool = False


# What an outcome changes on its target: the dispatcher owns these (the admin shows them
# read-only); `outcomes_write` writes them.
TARGET_FIELDS = (
    "status",
    "attempts",
    "next_attempt_at",
    "provider_message_id",
    "last_error_code",
    "updated_at",
)


def error_code_of(exc: IntegrationError) -> str:
    if isinstance(exc, Timeout):
        return "timeout"
    if exc.code:
        return str(exc.code)
    return str(exc.status) if exc.status else type(exc).__name__.lower()


def outcome_for_success(*, target_id: int, phone: str, attempts: int, message_id: str) -> Outcome:
    return Outcome(
        target_id,
        phone,
        Target.Status.SENT,
        attempts + 1,
        SendResult.Outcome.SENT,
        message_id=message_id,
    )


def outcome_for_error(
    *, target_id: int, phone: str, attempts: int, exc: IntegrationError, now: dt.datetime
) -> Outcome:
    code = error_code_of(exc)

    def outcome(status: str, attempts: int, result: str, **more) -> Outcome:
        return Outcome(target_id, phone, status, attempts, result, error_code=code, **more)

    def retry_in(seconds: float, attempts: int, result: str) -> Outcome:
        due = now + dt.timedelta(seconds=seconds)
        return outcome(Target.Status.PENDING, attempts, result, next_attempt_at=due)

    if isinstance(exc, RateLimited) and code in RECIPIENT_THROTTLE_CODES:
        wait = max(exc.retry_after or 0.0, RECIPIENT_RETRY_SECONDS)
        return retry_in(wait, attempts, SendResult.Outcome.RESCHEDULED)
    if (
        isinstance(exc, RateLimited)
        or isinstance(exc, NotConfigured)
        or (isinstance(exc, Rejected) and exc.status in CAMPAIGN_WIDE_STATUSES)
    ):
        retry_after = exc.retry_after if isinstance(exc, RateLimited) else None
        # next_attempt_at is filled in by the dispatcher once the campaign backoff is known.
        return outcome(
            Target.Status.PENDING,
            attempts,
            SendResult.Outcome.RESCHEDULED,
            campaign_backoff=retry_after or 0.0,
            retry_after_known=retry_after is not None,
        )
    if isinstance(exc, Rejected):
        if code in INVALID_CODES:
            return outcome(Target.Status.INVALID, attempts + 1, SendResult.Outcome.INVALID)
        return outcome(Target.Status.FAILED, attempts + 1, SendResult.Outcome.FAILED)
    # Unavailable (5xx, connection) and Timeout: bounded retries, exponential backoff.
    attempts += 1
    if attempts >= settings.CAMPAIGN_MAX_ATTEMPTS:
        return outcome(Target.Status.FAILED, attempts, SendResult.Outcome.FAILED)
    wait = settings.CAMPAIGN_RETRY_BASE_SECONDS * (2 ** (attempts - 1))
    return retry_in(wait, attempts, SendResult.Outcome.RETRY)


def outcomes_write(*, campaign_id: int, outcomes: list[Outcome], now: dt.datetime) -> None:
    """Targets and their send-result rows, in the caller's (claiming) transaction."""
    if not outcomes:
        return
    if connection.vendor == "postgresql":
        # Arrays + unnest: one short, constant statement whatever the batch size, so the
        # driver's query cache hits (a VALUES list per row re-parses the SQL every batch).
        table = Target._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {table} AS t
                   SET status = v.status, attempts = v.attempts,
                       next_attempt_at = v.next_attempt_at,
                       provider_message_id = v.message_id, last_error_code = v.error_code,
                       updated_at = %s
                  FROM unnest(%s::bigint[], %s::text[], %s::int[], %s::timestamptz[],
                              %s::text[], %s::text[])
                    AS v(id, status, attempts, next_attempt_at, message_id, error_code)
                 WHERE t.id = v.id
                """,
                [
                    now,
                    [o.target_id for o in outcomes],
                    [o.status for o in outcomes],
                    [o.attempts for o in outcomes],
                    [o.next_attempt_at for o in outcomes],
                    [o.message_id for o in outcomes],
                    [o.error_code for o in outcomes],
                ],
            )
    else:
        targets = [
            Target(
                id=o.target_id,
                status=o.status,
                attempts=o.attempts,
                next_attempt_at=o.next_attempt_at,
                provider_message_id=o.message_id,
                last_error_code=o.error_code,
                updated_at=now,
            )
            for o in outcomes
        ]
        Target.objects.bulk_update(targets, TARGET_FIELDS)
    _results_insert(campaign_id=campaign_id, outcomes=outcomes, now=now)


def _results_insert(*, campaign_id: int, outcomes: list[Outcome], now: dt.datetime) -> None:
    # One INSERT without model instances: this runs for every message sent.
    if connection.vendor != "postgresql":
        SendResult.objects.bulk_create(
            [
                SendResult(
                    at=now,
                    campaign_id=campaign_id,
                    target_id=o.target_id,
                    phone=o.phone,
                    outcome=o.result,
                    error_code=o.error_code,
                    message_id=o.message_id,
                )
                for o in outcomes
            ]
        )
        return
    table = SendResult._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table}
                   (at, campaign_id, target_id, phone, outcome, error_code, message_id, is_test)
            SELECT %s, %s, v.target_id, v.phone, v.outcome, v.error_code, v.message_id, false
              FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[])
                AS v(target_id, phone, outcome, error_code, message_id)
            """,
            [
                now,
                campaign_id,
                [o.target_id for o in outcomes],
                [o.phone for o in outcomes],
                [o.result for o in outcomes],
                [o.error_code for o in outcomes],
                [o.message_id for o in outcomes],
            ],
        )
