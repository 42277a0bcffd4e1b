"""What each outcome of POST /api/station/redeem answers: the one table.

Both engines read it: `redeem_sql` generates its status `CASE` from it (`outcome_status_sql`)
and `redeem_orm` looks the status up (`outcome_status`); `tests/vouchers/
test_redeem_outcome_table.py` proves they agree for every outcome. Order matters only for
the generated SQL: it keeps the statement's text as it was measured (performance.md).
"""

from collections import Counter
from dataclasses import dataclass

from vouchers.models import RedeemOutcome


@dataclass(frozen=True)
class OutcomeRule:
    # The HTTP status; None for `replayed`, which answers the stored response's own status.
    status: int | None
    # The response is stored and replayed for the same (station, key, body).
    stored: bool = False


OUTCOMES: dict[str, OutcomeRule] = {
    RedeemOutcome.REDEEMED.value: OutcomeRule(200, stored=True),
    RedeemOutcome.REPLAYED.value: OutcomeRule(None),
    RedeemOutcome.UNAUTHORIZED.value: OutcomeRule(401),
    RedeemOutcome.RATE_LIMITED.value: OutcomeRule(429),
    RedeemOutcome.INVALID_REQUEST.value: OutcomeRule(400),
    RedeemOutcome.IDEMPOTENCY_KEY_REUSED.value: OutcomeRule(422),
    RedeemOutcome.NOT_FOUND.value: OutcomeRule(404, stored=True),
    RedeemOutcome.OUT_OF_SCOPE.value: OutcomeRule(403, stored=True),
    RedeemOutcome.VOUCHER_VOID.value: OutcomeRule(409, stored=True),
    RedeemOutcome.VOUCHER_EXPIRED.value: OutcomeRule(409, stored=True),
    RedeemOutcome.ALREADY_REDEEMED.value: OutcomeRule(409, stored=True),
    RedeemOutcome.REQUEST_IN_PROGRESS.value: OutcomeRule(409),
}

# Outcomes whose response is stored and replayed for the same (station, key, body).
STORED_OUTCOMES = tuple(outcome for outcome, rule in OUTCOMES.items() if rule.stored)


def outcome_status(outcome: str, *, replayed_status: int | None = None) -> int:
    """The HTTP status of `outcome`; `replayed_status` is the stored one a replay repeats."""
    status = OUTCOMES[outcome].status
    return replayed_status if status is None else status


def outcome_status_sql(*, outcome: str, replayed_status: str) -> str:
    """The table as a SQL `CASE` over the column `outcome` (`replayed_status`: the column
    holding a replay's stored status). The status most outcomes share is the ELSE, which
    keeps the statement short: psycopg caches the parsing of queries up to 4096 bytes."""
    shared = Counter(rule.status for rule in OUTCOMES.values() if rule.status is not None)
    default = shared.most_common(1)[0][0]
    whens = " ".join(
        f"WHEN '{name}' THEN {replayed_status if rule.status is None else rule.status}"
        for name, rule in OUTCOMES.items()
        if rule.status != default
    )
    return f"CASE {outcome} {whens} ELSE {default} END"
