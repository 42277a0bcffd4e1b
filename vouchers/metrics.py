"""Station redeem metrics: one counter per outcome (Prometheus, `/metrics`).

The redeem fast path pays one counter increment per request: the children are made
once here, so counting is a dict lookup and prometheus-client's own write (an mmap'd
file per process under gunicorn, no lock shared between processes).
"""

from prometheus_client import Counter

from vouchers.redeem_outcomes import OUTCOMES

REDEEM_OUTCOMES = Counter(
    "opsportal_redeem_outcomes", "Station redeem requests by outcome", ["outcome"]
)
_BY_OUTCOME = {outcome: REDEEM_OUTCOMES.labels(outcome) for outcome in OUTCOMES}


def redeem_outcome_counted(outcome: str) -> None:
    counter = _BY_OUTCOME.get(outcome)
    if counter is None:  # an outcome the table does not know yet: count it all the same
        counter = _BY_OUTCOME[outcome] = REDEEM_OUTCOMES.labels(outcome)
    counter.inc()
