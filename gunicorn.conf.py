"""Production settings for gunicorn, which reads this file from its working directory.

Sync workers, two per core, behind a buffering reverse proxy (nginx or the load
balancer handles slow clients and keep-alive), as gunicorn's own docs advise. On
the redeem benchmark (`make bench`, 2 cores, 16 clients) 4 sync workers served about
as many requests per second as 4 gthread workers × 4 threads with a p99 of 15–17 ms
instead of 25–37 ms: no thread pool, poller or GIL handoff on a request's path. Override any
of these with GUNICORN_CMD_ARGS or command-line flags.
"""

import os
import tempfile

worker_class = "sync"
# The CPUs this process may run on (not the host's count, which a container may not
# have); WEB_CONCURRENCY, gunicorn's usual variable, wins. Each worker holds one
# database connection: keep workers × hosts below PostgreSQL's max_connections.
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * len(os.sched_getaffinity(0)))

# /metrics (opsportal/metrics/) sums every worker's counters: each worker writes them to
# files in this directory. systemd's RuntimeDirectory gives a fresh one per start
# (deploy/systemd/); without one, a new temporary directory.
_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(
    prefix="opsportal-metrics-"
)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir  # the workers inherit it


def on_starting(server):
    # A previous run's files would be summed with this run's counters.
    os.makedirs(_metrics_dir, exist_ok=True)
    for name in os.listdir(_metrics_dir):
        if name.endswith(".db"):
            os.remove(os.path.join(_metrics_dir, name))


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


# The access log names each request's id (the X-Request-ID our middleware answers with).
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'
if os.environ.get("LOG_FORMAT") == "json":
    # gunicorn's own lines (access, errors) as JSON too, like the app's (settings.LOGGING).
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "opsportal.logs.JsonFormatter",
                "fmt": "%(levelname)s %(name)s %(message)s",
                "rename_fields": {"levelname": "level", "name": "logger"},
                "timestamp": "time",
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
        "loggers": {
            "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }
