"""Dispatcher metrics (Prometheus, `/metrics`).

Counters are per process (the worker that sent): each cluster's exporter shows what its
workers sent, Prometheus sums them. They are added by the coordinator between rounds
(deltas of its counters, about every 0.2 s), never per message. The throttle and how much
of it a campaign uses are read from the database at scrape time (`DispatchCollector`):
the same answer from every host, whoever sent.
"""

import datetime as dt

from django.db.models import Count
from django.utils import timezone
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily

from campaigns.models import Campaign, SendResult

DISPATCH_SENDS = Counter(
    "opsportal_dispatch_sends",
    "Messages the dispatcher sent (first answer), by campaign",
    ["campaign"],
)
DISPATCH_ATTEMPTS = Counter(
    "opsportal_dispatch_attempts", "Send attempts by the dispatcher, by campaign", ["campaign"]
)
USE_WINDOW = dt.timedelta(seconds=60)


def dispatch_counted(*, campaign_id: int, sent: int, attempted: int) -> None:
    label = str(campaign_id)
    if sent:
        DISPATCH_SENDS.labels(label).inc(sent)
    if attempted:
        DISPATCH_ATTEMPTS.labels(label).inc(attempted)


class DispatchCollector:
    """Running campaigns: throttle, and the share of it used over the last minute."""

    def collect(self):
        throttle = GaugeMetricFamily(
            "opsportal_campaign_throttle_per_minute",
            "Throttle of running campaigns",
            labels=["campaign"],
        )
        use = GaugeMetricFamily(
            "opsportal_campaign_throttle_use",
            "Sends in the last minute / throttle, running campaigns (1.0 = at the throttle)",
            labels=["campaign"],
        )
        running = dict(
            Campaign.objects.filter(state=Campaign.State.RUNNING).values_list(
                "pk", "throttle_per_minute"
            )
        )
        sent = dict(
            SendResult.objects.filter(
                campaign_id__in=running,
                at__gte=timezone.now() - USE_WINDOW,
                outcome=SendResult.Outcome.SENT,
            )
            .values("campaign_id")
            .annotate(n=Count("id"))
            .values_list("campaign_id", "n")
        )
        for campaign_id, per_minute in running.items():
            throttle.add_metric([str(campaign_id)], per_minute)
            use.add_metric([str(campaign_id)], sent.get(campaign_id, 0) / per_minute)
        yield throttle
        yield use
