"""Prometheus metrics: `/metrics` on every web host, `manage.py metrics_exporter` for workers.

- What processes count (request latency by route, redeem outcomes, dispatcher sends,
  task runs) is defined by the app that counts it (`<app>/metrics.py`, `http.py`,
  `tasks.py` here). Under gunicorn and qcluster these are multiprocess metrics:
  PROMETHEUS_MULTIPROC_DIR holds one mmap'd file per process, summed at scrape time
  (gunicorn.conf.py sets it up for the web; a worker host sets it for qcluster and its
  exporter). Without it (`make run`, tests) they live in the process's memory.
- What is read from the database or the broker (probe states, queue depth and age, audit
  seal lag and anchors, open incidents, throttle use) is collected at scrape time by
  `state_collectors()`, on the web hosts' /metrics only: every host gives the same answer.
- Who may scrape: `access.py`.
"""

import logging
import os

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess

logger = logging.getLogger("opsportal.metrics")


class _Guarded:
    """A scrape-time collector whose failure (database down) costs its own lines only."""

    def __init__(self, collector):
        self.collector = collector

    def collect(self):
        try:
            yield from list(self.collector.collect())
        except Exception:
            logger.warning("metrics: %s failed", type(self.collector).__name__, exc_info=True)


_state_registry: CollectorRegistry | None = None


def state_collectors() -> CollectorRegistry:
    global _state_registry
    if _state_registry is None:
        from audit.metrics import AuditCollector
        from campaigns.metrics import DispatchCollector
        from incidents.metrics import IncidentCollector
        from integrations.metrics import ProbeCollector
        from opsportal.metrics.tasks import QueueCollector

        registry = CollectorRegistry()
        for collector in (
            ProbeCollector(),
            QueueCollector(),
            AuditCollector(),
            IncidentCollector(),
            DispatchCollector(),
        ):
            registry.register(_Guarded(collector))
        _state_registry = registry
    return _state_registry


def exposition(*, with_state: bool) -> bytes:
    """The text exposition format: this host's processes, and the shared state if asked."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    output = generate_latest(registry)
    if with_state:
        output += generate_latest(state_collectors())
    return output
