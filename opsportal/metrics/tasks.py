"""Task metrics: runs per task (counted in the worker that ran it, through django-q2's
`post_execute_in_worker` signal) and the queue's depth and oldest task's age (read from
the broker at scrape time)."""

from django.utils import timezone
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily

TASK_RUNS = Counter(
    "opsportal_task_runs", "Background tasks run, by function and result", ["task", "result"]
)


def task_counted(sender, func=None, task=None, **kwargs) -> None:
    task = task or {}
    name = task.get("func", func)
    name = name if isinstance(name, str) else f"{name.__module__}.{name.__qualname__}"
    TASK_RUNS.labels(name, "success" if task.get("success") else "failure").inc()


def connect_task_signals() -> None:
    from django_q.signals import post_execute_in_worker

    post_execute_in_worker.connect(task_counted, dispatch_uid="opsportal.metrics.task_counted")


_broker = None


def _oldest_started(broker):
    """When the task at the head of the queue was enqueued (None: empty)."""
    from django_q.brokers.orm import ORM
    from django_q.signing import SignedPackage

    if isinstance(broker, ORM):
        return (
            broker.get_connection()
            .filter(key=broker.list_key, lock__lte=timezone.now())
            .order_by("lock")
            .values_list("lock", flat=True)
            .first()
        )
    raw = broker.connection.lindex(broker.list_key, 0)  # Redis: the next task out
    return SignedPackage.loads(raw).get("started") if raw else None


class QueueCollector:
    def collect(self):
        global _broker
        from django_q.brokers import get_broker

        _broker = _broker or get_broker()  # one connection per process, reused
        depth = GaugeMetricFamily(
            "opsportal_task_queue_depth", "Tasks waiting in the queue", labels=["queue"]
        )
        age = GaugeMetricFamily(
            "opsportal_task_queue_oldest_age_seconds",
            "How long the next task out has waited (0 when the queue is empty)",
            labels=["queue"],
        )
        depth.add_metric([_broker.list_key], _broker.queue_size())
        started = _oldest_started(_broker)
        waited = (timezone.now() - started).total_seconds() if started else 0.0
        age.add_metric([_broker.list_key], max(0.0, waited))
        yield depth
        yield age
