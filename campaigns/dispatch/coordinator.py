"""One bounded slice of a running campaign's dispatch, and the next one after it.

Shape: take the campaign's lease → rounds of sending (`lanes`) until the slice's time is up,
the campaign stops, must wait (quiet hours, backoff, retries not yet due) or is done. This
thread is the coordinator: while the lanes send it renews the lease, watches for stop and
for a backoff set elsewhere, and persists progress. A slice that ended only because its
time was up enqueues the next one.
"""

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from campaigns import leases
from campaigns.dispatch.backoff import CampaignBackoff
from campaigns.dispatch.lanes import LaneCounters, Lanes
from campaigns.models import Campaign, Target
from campaigns.next_send import campaign_next_send_at
from campaigns.pacing import Pacer
from campaigns.quiet import quiet_next_start
from campaigns.services import campaign_complete, campaign_enqueue_slice

logger = logging.getLogger("campaigns.dispatcher")

TICK_SECONDS = 0.2
SLACK_SECONDS = 0.1


@dataclass
class SliceResult:
    reason: str  # lease_busy | not_running | completed | waiting | slice_end | lease_lost
    sent: int = 0
    attempted: int = 0
    wake_at: dt.datetime | None = None

    @property
    def continue_now(self) -> bool:
        """Whether the caller should enqueue the next slice right away."""
        return self.reason == "slice_end"


def slice_dispatch(*, campaign_id: int) -> str:
    """Run one bounded slice; enqueue the next while there is work due now."""
    result = SliceRunner(campaign_id).run()
    logger.info(
        "campaign %s slice: %s (%s sent / %s attempted)",
        campaign_id,
        result.reason,
        result.sent,
        result.attempted,
    )
    if result.continue_now:
        campaign_enqueue_slice(campaign_id=campaign_id)
    return result.reason


class SliceRunner:
    def __init__(
        self,
        campaign_id: int,
        *,
        clock: Callable[[], dt.datetime] = timezone.now,
        slice_seconds: float | None = None,
        holder: str | None = None,
    ):
        self.campaign_id = campaign_id
        self.clock = clock
        self.slice_seconds = slice_seconds or settings.CAMPAIGN_SLICE_SECONDS
        self.holder = holder or leases.new_holder()
        self.ttl = settings.CAMPAIGN_LEASE_SECONDS
        self.cancel = threading.Event()
        self.counters = LaneCounters()
        self.backoff: CampaignBackoff | None = None
        self._lease_lost = False

    def _mono_at(self, when: dt.datetime) -> float:
        return time.monotonic() + (when - self.clock()).total_seconds()

    def run(self) -> SliceResult:
        now = self.clock()
        leases.heartbeat_write(now=now)
        if not leases.lease_acquire(
            campaign_id=self.campaign_id, holder=self.holder, now=now, ttl=self.ttl
        ):
            return SliceResult("lease_busy")
        try:
            result = self._rounds()
        finally:
            leases.lease_release(campaign_id=self.campaign_id, holder=self.holder, now=self.clock())
        result.sent, result.attempted = self.counters.sent, self.counters.attempted
        return result

    def _rounds(self) -> SliceResult:
        slice_end = time.monotonic() + self.slice_seconds
        campaign = Campaign.objects.filter(pk=self.campaign_id).first()
        if campaign is None or campaign.state != Campaign.State.RUNNING:
            return SliceResult("not_running")
        # 100 ms of slack (at least one interval): a lane woken late on a busy host still
        # uses its slot, so jitter costs no throughput; the long-run rate stays exact and a
        # minute never holds more than the throttle + 100 ms worth + 1.
        interval = 60.0 / campaign.throttle_per_minute
        pacer = Pacer(per_minute=campaign.throttle_per_minute, slack=max(interval, SLACK_SECONDS))
        self.backoff = CampaignBackoff(self.campaign_id, pacer=pacer, clock=self.clock)
        lanes = Lanes(
            campaign,
            pacer=pacer,
            backoff=self.backoff,
            cancel=self.cancel,
            clock=self.clock,
            counters=self.counters,
        )
        self._last_renew = time.monotonic()
        while True:
            campaign.refresh_from_db()
            if campaign.state != Campaign.State.RUNNING:
                return SliceResult("not_running")
            now = self.clock()
            wake = campaign_next_send_at(campaign, now)
            if wake is None:
                if not Target.objects.filter(
                    campaign_id=self.campaign_id, status=Target.Status.PENDING
                ).exists():
                    campaign_complete(campaign_id=self.campaign_id, now=now)
                    return SliceResult("completed")
            if wake is not None and wake > now:
                Campaign.objects.filter(pk=self.campaign_id).update(next_send_at=wake)
                inline = min(settings.CAMPAIGN_INLINE_WAIT_SECONDS, slice_end - time.monotonic())
                if (wake - now).total_seconds() > inline:
                    return SliceResult("waiting", wake_at=wake)
                if not self._sleep_until(self._mono_at(wake)):
                    return SliceResult(self._stop_reason())
                continue
            # Send until the slice ends or the next quiet window begins.
            quiet_start = quiet_next_start(
                now=now,
                start=campaign.quiet_hours_start,
                end=campaign.quiet_hours_end,
                tz=campaign.time_zone,
            )
            deadline = (
                slice_end if quiet_start is None else min(slice_end, self._mono_at(quiet_start))
            )
            self.backoff.hold(campaign.backoff_until)
            Campaign.objects.filter(pk=self.campaign_id).update(next_send_at=None)
            attempted_before = self.counters.attempted
            self._send_round(lanes, deadline)
            if self.counters.attempted == attempted_before and not self._sleep_until(
                time.monotonic() + TICK_SECONDS
            ):
                return SliceResult(self._stop_reason())  # rows due but held by another worker
            if self.cancel.is_set():
                return SliceResult(self._stop_reason())
            if time.monotonic() >= slice_end - TICK_SECONDS:
                return SliceResult("slice_end")

    def _stop_reason(self) -> str:
        return "lease_lost" if self._lease_lost else "not_running"

    def _sleep_until(self, mono_deadline: float) -> bool:
        """Wait, still renewing the lease and watching for stop; False when told to stop."""
        while time.monotonic() < mono_deadline:
            if not self._tick():
                return False
            time.sleep(min(TICK_SECONDS, max(0.0, mono_deadline - time.monotonic())))
        return True

    def _tick(self) -> bool:
        """Coordinator duties; False (and lanes cancelled) once we must stop sending."""
        row = (
            Campaign.objects.filter(pk=self.campaign_id)
            .values_list("state", "backoff_until")
            .first()
        )
        if row is None or row[0] != Campaign.State.RUNNING:
            self.cancel.set()
            return False
        if self.backoff is not None:
            self.backoff.hold(row[1])
        if time.monotonic() - self._last_renew > self.ttl / 6:
            now = self.clock()
            if not leases.lease_renew(
                campaign_id=self.campaign_id, holder=self.holder, now=now, ttl=self.ttl
            ):
                self._lease_lost = True
                self.cancel.set()
                return False
            leases.heartbeat_write(now=now)
            self._last_renew = time.monotonic()
        return True

    def _send_round(self, lanes: Lanes, deadline: float) -> None:
        last_progress = 0

        def between() -> None:
            nonlocal last_progress
            self._tick()
            last_progress = self._persist_progress(last_progress)

        lanes.run(deadline, between=between, every=TICK_SECONDS)
        self._persist_progress(last_progress)

    def _persist_progress(self, last_progress: int) -> int:
        with self.counters.lock:
            progressed = self.counters.progressed
        fields = {}
        if progressed != last_progress:
            fields["last_progress_at"] = self.clock()
        if self.backoff.reset_due():
            fields["backoff_level"] = 0
        if fields:
            Campaign.objects.filter(pk=self.campaign_id).update(**fields)
        return progressed
