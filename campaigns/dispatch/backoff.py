"""Campaign-wide backoff: the rule and the state every lane and every worker shares.

A send refused for the whole campaign (a throttle, NotConfigured, 401/403/404: see
`campaigns.outcomes`) makes everyone wait: Retry-After when the provider gave one, else
2^level × CAMPAIGN_BACKOFF_BASE_SECONDS (capped at CAMPAIGN_BACKOFF_MAX_SECONDS); the level
rises by one per backoff without Retry-After and returns to 0 after a success. The wait
pauses this worker's lanes at once (the shared `Pacer`) and is written to the campaign row
(`backoff_until`, `next_send_at`), where other workers and `campaign_next_send_at` see it.
"""

import datetime as dt
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import connection

from campaigns.models import Campaign
from campaigns.outcomes import Outcome
from campaigns.pacing import Pacer

MAX_LEVEL = 16


def backoff_seconds(*, level: int) -> float:
    """The wait without Retry-After: 2^level × base, capped."""
    return min(
        settings.CAMPAIGN_BACKOFF_MAX_SECONDS,
        settings.CAMPAIGN_BACKOFF_BASE_SECONDS * (2**level),
    )


class CampaignBackoff:
    """One slice's view of its campaign's backoff (shared by the coordinator and lanes)."""

    def __init__(self, campaign_id: int, *, pacer: Pacer, clock: Callable[[], dt.datetime]):
        self.campaign_id = campaign_id
        self.pacer = pacer
        self.clock = clock
        self._lock = threading.Lock()
        self._succeeded = False

    def hold(self, until: dt.datetime | None) -> None:
        """A backoff already on the campaign row (another lane's or worker's 429, or a
        runbook's `campaign_reschedule_after`) holds our lanes too."""
        if until is None:
            return
        remaining = (until - self.clock()).total_seconds()
        if remaining > 0:
            self.pacer.pause_until(time.monotonic() + remaining)

    def start(self, outcome: Outcome) -> None:
        """Everyone waits; the refused target is due again when the wait ends."""
        if outcome.retry_after_known:
            wait = outcome.campaign_backoff
            level = None
        else:
            level = (
                Campaign.objects.filter(pk=self.campaign_id)
                .values_list("backoff_level", flat=True)
                .first()
                or 0
            )
            wait = backoff_seconds(level=level)
        self.pacer.pause_until(time.monotonic() + wait)
        until = self.clock() + dt.timedelta(seconds=wait)
        outcome.next_attempt_at = until
        self._persist(until, level, wait)

    def succeeded(self) -> None:
        """A send went through: the level returns to 0 with the next progress write."""
        with self._lock:
            self._succeeded = True

    def reset_due(self) -> bool:
        """Whether a success since the last call means `backoff_level` must be reset."""
        with self._lock:
            due, self._succeeded = self._succeeded, False
        return due

    def _persist(self, until: dt.datetime, level: int | None, wait: float) -> None:
        # A separate connection: the lane's own transaction holds target locks until its
        # batch is written, and the backoff must be visible to every worker now.
        def write():
            try:
                fields = {
                    "backoff_until": until,
                    "next_send_at": until,
                    "backoff_retry_after": None if level is not None else wait,
                }
                if level is not None:
                    fields["backoff_level"] = min(level + 1, MAX_LEVEL)
                else:  # remembered after the backoff ends (incident step 3.1's default)
                    fields["provider_retry_after"] = wait
                    fields["provider_retry_after_at"] = self.clock()
                Campaign.objects.filter(pk=self.campaign_id).update(**fields)
            finally:
                connection.close()

        t = threading.Thread(target=write, daemon=True)
        t.start()
        t.join()
