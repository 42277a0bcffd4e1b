"""Probe state per integration (Prometheus, `/metrics`), read at scrape time from the
last known status (the cache, else the newest stored run: at most one query)."""

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from prometheus_client.core import GaugeMetricFamily

from integrations.probes import STATE_RANK
from integrations.status import status_latest


class ProbeCollector:
    def collect(self):
        state = GaugeMetricFamily(
            "opsportal_integration_state",
            "Last probe state per integration: 0 green, 1 amber, 2 red",
            labels=["integration", "reason"],
        )
        latency = GaugeMetricFamily(
            "opsportal_integration_latency_seconds", "Last probe latency", labels=["integration"]
        )
        age = GaugeMetricFamily(
            "opsportal_integration_checked_age_seconds",
            "Seconds since the integration was last probed",
            labels=["integration"],
        )
        now = timezone.now()
        for item in (status_latest() or {}).get("integrations", []):
            key = item["key"]
            state.add_metric([key, item["reason"]], STATE_RANK.get(item["state"], 2))
            if item.get("latency_ms") is not None:
                latency.add_metric([key], item["latency_ms"] / 1000)
            checked = parse_datetime(item["checked_at"])
            if checked is not None:
                age.add_metric([key], max(0.0, (now - checked).total_seconds()))
        yield state
        yield latency
        yield age
