"""The concurrent sends of one dispatch round.

A few *lanes*: threads with their own database connection, each claiming a small batch of
due targets with `FOR UPDATE SKIP LOCKED` and keeping it locked until the batch's outcomes
are written, in one transaction (PostgreSQL; on SQLite, one lane claims, commits, sends
and writes the outcomes in a second short transaction: `_batch_claimed`). A worker killed mid-batch loses only its open
transactions, so those targets are simply pending again; their `idempotency_key` (stable
per target) makes the Edge Function answer a retry without sending twice. The shared
`Pacer` spaces send starts to the throttle; a campaign-wide refusal goes to the backoff.
"""

import datetime as dt
import json
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Q

from campaigns.dispatch.backoff import CampaignBackoff
from campaigns.models import Campaign, Target
from campaigns.outcomes import Outcome, outcome_for_error, outcome_for_success, outcomes_write
from campaigns.pacing import Pacer
from integrations.clients.edge_functions import SendWhatsAppClient
from integrations.clients.keepalive import KeepAliveWhatsAppSender
from integrations.errors import IntegrationError

logger = logging.getLogger("campaigns.dispatcher")

# PostgreSQL locks the claimed rows; SQLite (the embedded `make run` default) has no row
# locks and one write lock for the whole file: it claims by moving `next_attempt_at` instead.
LOCK_CLAUSE = {"postgresql": "FOR UPDATE SKIP LOCKED"}


def idempotency_key(*, campaign_id: int, target_id: int) -> str:
    return f"campaign-{campaign_id}-target-{target_id}"


def lane_plan(*, per_minute: int, vendor: str) -> tuple[int, int]:
    """(lanes, batch size): enough lanes to keep the throttle busy at ~250 ms per send,
    few for slow campaigns; one on SQLite (one writer at a time there anyway)."""
    per_second = per_minute / 60.0
    lanes = max(1, min(settings.CAMPAIGN_MAX_LANES, math.ceil(per_second * 0.25) + 1))
    if vendor == "sqlite":
        lanes = 1
    batch = max(1, min(50, math.ceil(per_second * 1.5 / lanes)))
    return lanes, batch


@dataclass
class LaneCounters:
    """What the lanes tell the coordinator (under `lock`), counted over the whole slice."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    progressed: int = 0
    sent: int = 0
    attempted: int = 0


class Lanes:
    def __init__(
        self,
        campaign: Campaign,
        *,
        pacer: Pacer,
        backoff: CampaignBackoff,
        cancel: threading.Event,
        clock: Callable,
        counters: LaneCounters,
    ):
        # `campaign` is the coordinator's instance, refreshed by it between rounds.
        self.campaign = campaign
        self.pacer = pacer
        self.backoff = backoff
        self.cancel = cancel
        self.clock = clock
        self.counters = counters
        self.client = SendWhatsAppClient()

    def run(self, deadline: float, *, between: Callable[[], None], every: float) -> None:
        """Send until `deadline` (monotonic), cancel, or nothing is due; `between()` runs
        about every `every` seconds while the lanes work."""
        count, batch = lane_plan(
            per_minute=self.campaign.throttle_per_minute, vendor=connection.vendor
        )
        threads = [
            threading.Thread(
                target=self._lane,
                args=(deadline, batch),
                daemon=True,
                name=f"campaign-{self.campaign.pk}-lane-{i}",
            )
            for i in range(count)
        ]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            for t in threads:
                t.join(every / len(threads))
            between()

    def _lane(self, deadline: float, batch: int) -> None:
        try:
            sender = KeepAliveWhatsAppSender(self.client)
        except IntegrationError:
            sender = self.client  # not configured: each send raises it, the campaign backs off
        try:
            while not self.cancel.is_set() and time.monotonic() < deadline:
                if not self._batch(deadline, batch, sender):
                    return
        except Exception:
            logger.exception("campaign %s: lane failed", self.campaign.pk)
            self.cancel.set()
        finally:
            if sender is not self.client:
                sender.close()
            connection.close()

    def _batch(self, deadline: float, batch: int, sender) -> bool:
        """Claim, send, write one batch; False when nothing is due."""
        close_old_connections()
        if connection.vendor in LOCK_CLAUSE:
            return self._batch_locked(deadline, batch, sender)
        return self._batch_claimed(deadline, batch, sender)

    def _batch_locked(self, deadline: float, batch: int, sender) -> bool:
        """PostgreSQL: the batch's rows stay locked (SKIP LOCKED for the other lanes and
        workers) from the claim to the write of their outcomes, in one transaction."""
        campaign_id = self.campaign.pk
        with transaction.atomic():
            now = self.clock()
            with connection.cursor() as cursor:
                cursor.execute(
                    f"""
                    SELECT id, phone, variables, attempts FROM {Target._meta.db_table}
                     WHERE campaign_id = %s AND status = %s
                       AND (next_attempt_at IS NULL OR next_attempt_at <= %s)
                     LIMIT %s {LOCK_CLAUSE.get(connection.vendor, "")}
                    """,
                    [campaign_id, Target.Status.PENDING, now, batch],
                )
                rows = cursor.fetchall()
            if not rows:
                return False
            outcomes: list[Outcome] = []
            for target_id, phone, variables, attempts in rows:
                if not self.pacer.acquire(deadline=deadline, cancelled=self.cancel):
                    break
                outcomes.append(self._send_one(sender, target_id, phone, variables, attempts))
            outcomes_write(campaign_id=campaign_id, outcomes=outcomes, now=self.clock())
        return True

    def _batch_claimed(self, deadline: float, batch: int, sender) -> bool:
        """SQLite: one write lock for the whole file, so no transaction may stay open across
        a network call (a login would wait for the batch). Claim → commit → send → write:
        the claim moves the rows' `next_attempt_at` past this slice, so no one else takes
        them; a worker killed mid-batch leaves them due again when the claim ends (their
        idempotency key keeps the Edge Function from sending twice)."""
        campaign_id = self.campaign.pk
        claim_until = self.clock() + dt.timedelta(
            seconds=max(0.0, deadline - time.monotonic()) + settings.CAMPAIGN_LEASE_SECONDS
        )
        with transaction.atomic():
            is_due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=self.clock())
            rows = list(
                Target.objects.filter(is_due, campaign_id=campaign_id, status=Target.Status.PENDING)
                .order_by()
                .values_list("id", "phone", "variables", "attempts", "next_attempt_at")[:batch]
            )
            if not rows:
                return False
            Target.objects.filter(pk__in=[row[0] for row in rows]).update(
                next_attempt_at=claim_until
            )
        outcomes: list[Outcome] = []
        for target_id, phone, variables, attempts, _due in rows:
            if not self.pacer.acquire(deadline=deadline, cancelled=self.cancel):
                break
            outcomes.append(self._send_one(sender, target_id, phone, variables, attempts))
        with transaction.atomic():
            outcomes_write(campaign_id=campaign_id, outcomes=outcomes, now=self.clock())
            # Claimed but not sent (the slice ended, or stop): due again as they were.
            for target_id, _phone, _variables, _attempts, due in rows[len(outcomes) :]:
                Target.objects.filter(pk=target_id, next_attempt_at=claim_until).update(
                    next_attempt_at=due
                )
        return True

    def _send_one(self, sender, target_id, phone, variables, attempts) -> Outcome:
        campaign = self.campaign
        if isinstance(variables, str):  # SQLite's raw cursor returns JSON as text
            variables = json.loads(variables)
        try:
            message_id = sender.send(
                to=phone,
                template=campaign.template,
                variables={**campaign.template_variables, **(variables or {})},
                idempotency_key=idempotency_key(campaign_id=campaign.pk, target_id=target_id),
                language=campaign.template_language,
            )
            outcome = outcome_for_success(
                target_id=target_id, phone=phone, attempts=attempts, message_id=message_id
            )
        except IntegrationError as exc:
            outcome = outcome_for_error(
                target_id=target_id, phone=phone, attempts=attempts, exc=exc, now=self.clock()
            )
            if outcome.campaign_backoff is not None:
                self.backoff.start(outcome)
        counters = self.counters
        with counters.lock:
            counters.attempted += 1
            if outcome.status != Target.Status.PENDING:
                counters.progressed += 1
            if outcome.status == Target.Status.SENT:
                counters.sent += 1
        if outcome.status == Target.Status.SENT:
            self.backoff.succeeded()
        return outcome
