"""One bounded slice of a running campaign's dispatch, and the next one after it.

Shape: take the campaign's lease → rounds of sending (`lanes`) until the slice's time is up,
the campaign stops, must wait (quiet hours, backoff, retries not yet due) or is done. This
thread is the coordinator: while the lanes send it checks the lease is still its own,
watches for stop and for a backoff set elsewhere, and persists progress. A slice that ended
only because its time was up enqueues the next one.

Takeover (PostgreSQL): a slice that finds the lease busy on *another* node becomes the
campaign's standby and blocks on the lease's lock (campaigns/session_lease.py). One that
lands on the holder's own node re-enqueues itself (a few hops) so another node's worker
may pick it up, then gives up: a standby beside its holder protects against nothing that
takes the host down and would keep a second worker of that host busy. The holder seeks a
standby when `view()` shows none (less and less often while none comes: on a single node
none ever will). When the holder's process dies the lock goes with its session and the
standby sends on within milliseconds; when its slice ends normally the standby takes over
and the slice it enqueued becomes the next standby. Without a standby (one node, SQLite)
the watchdog restarts the campaign within its minute.
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
from campaigns.metrics import dispatch_counted
from campaigns.models import Campaign, Target
from campaigns.next_send import campaign_next_send_at
from campaigns.pacing import Pacer
from campaigns.quiet import quiet_next_start
from campaigns.services import campaign_complete, campaign_enqueue_slice

logger = logging.getLogger("campaigns.dispatcher")

TICK_SECONDS = 0.2
SLACK_SECONDS = 0.1
LEASE_CHECK_SECONDS = 1.0  # how often the holder proves the lease is still its own
STANDBY_CHECK_SECONDS = 2.0  # how often the holder looks for its standby
STANDBY_GRACE_SECONDS = 5.0  # a standby enqueued this recently may still be on its way
STANDBY_GRACE_MAX_SECONDS = 60.0  # doubling while none comes (a single node never has one)
MAX_STANDBY_HOPS = 3  # re-enqueues looking for another node, then give up
STANDBY_WAIT_STEP = 1.0  # a standby checks the campaign still runs this often


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


def slice_dispatch(*, campaign_id: int, hops: int = 0) -> str:
    """Run one bounded slice; enqueue the next while there is work due now."""
    result = SliceRunner(campaign_id, hops=hops).run()
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
        hops: int = 0,
    ):
        self.campaign_id = campaign_id
        self.clock = clock
        self.slice_seconds = slice_seconds or settings.CAMPAIGN_SLICE_SECONDS
        self.holder = holder or leases.new_holder()
        self.ttl = settings.CAMPAIGN_LEASE_SECONDS
        self.hops = hops
        self.cancel = threading.Event()
        self.counters = LaneCounters()
        self.backoff: CampaignBackoff | None = None
        self.lease = None
        self._lease_lost = False
        self._started = time.monotonic()
        self._last_check = self._standby_checked = self._standby_sought = -float("inf")
        self._counted = (0, 0)  # sent, attempted already added to the /metrics counters
        self._standby_grace = STANDBY_GRACE_SECONDS

    def _mono_at(self, when: dt.datetime) -> float:
        return time.monotonic() + (when - self.clock()).total_seconds()

    def run(self) -> SliceResult:
        self._started = time.monotonic()
        now = self.clock()
        leases.heartbeat_write(now=now)
        self.lease = leases.lease_open(self.campaign_id, holder=self.holder, ttl=self.ttl)
        held = False
        try:
            held = self.lease.acquire(now=now) or self._stand_by()
            if not held:
                return SliceResult("lease_busy")
            self._last_check = time.monotonic()
            result = self._rounds()
        finally:
            self.lease.release(now=self.clock(), held=held)
        result.sent, result.attempted = self.counters.sent, self.counters.attempted
        return result

    def _stand_by(self) -> bool:
        """The lease is busy: wait for it as the campaign's standby, or step back (False).

        Waits at most half the slice, and the slice it then runs ends at the usual time
        after its start, so a task never outlives CAMPAIGN_SLICE_SECONDS (< Q_TIMEOUT)."""
        if not (settings.CAMPAIGN_STANDBY and self.lease.standby_capable):
            return False
        view = self.lease.view()
        if any(node != view.holder_node for node in view.standby_nodes):
            return False  # a standby on another node than the holder's already waits
        if view.holder_node == leases.node_name():
            if self.hops < MAX_STANDBY_HOPS:
                campaign_enqueue_slice(campaign_id=self.campaign_id, hops=self.hops + 1)
            return False
        deadline = self._started + self.slice_seconds / 2
        while (left := deadline - time.monotonic()) > 0:
            if self.lease.wait(seconds=min(STANDBY_WAIT_STEP, left), now=self.clock()):
                return True
            state = Campaign.objects.filter(pk=self.campaign_id).values_list("state", flat=True)
            if state.first() != Campaign.State.RUNNING:
                return False
        return False

    def _keep_standby(self) -> None:
        """Make sure someone waits to take over when this holder dies (see the module doc)."""
        if not (settings.CAMPAIGN_STANDBY and self.lease.standby_capable):
            return
        now = time.monotonic()
        if now - self._standby_checked < STANDBY_CHECK_SECONDS:
            return
        self._standby_checked = now
        if self.lease.view().standby_nodes:
            self._standby_grace = STANDBY_GRACE_SECONDS
            return
        if now - self._standby_sought < self._standby_grace:
            return
        if self._standby_sought > -float("inf"):  # the last one never came: ask less often
            self._standby_grace = min(2 * self._standby_grace, STANDBY_GRACE_MAX_SECONDS)
        self._standby_sought = now
        campaign_enqueue_slice(campaign_id=self.campaign_id)

    def _rounds(self) -> SliceResult:
        slice_end = self._started + self.slice_seconds
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
        if time.monotonic() - self._last_check > min(LEASE_CHECK_SECONDS, self.ttl / 6):
            now = self.clock()
            if not self.lease.check(now=now):
                self._lease_lost = True
                self.cancel.set()
                return False
            leases.heartbeat_write(now=now)
            self._last_check = time.monotonic()
        self._keep_standby()
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
            sent, attempted = self.counters.sent, self.counters.attempted
        # /metrics: what this worker sent since the last tick (never counted per message).
        dispatch_counted(
            campaign_id=self.campaign_id,
            sent=sent - self._counted[0],
            attempted=attempted - self._counted[1],
        )
        self._counted = (sent, attempted)
        fields = {}
        if progressed != last_progress:
            fields["last_progress_at"] = self.clock()
        if self.backoff.reset_due():
            fields["backoff_level"] = 0
        if fields:
            Campaign.objects.filter(pk=self.campaign_id).update(**fields)
        return progressed
