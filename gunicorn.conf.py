"""Production settings for gunicorn, which reads this file from its working directory.

Sync workers, two per core, behind a buffering reverse proxy (nginx or the load
balancer handles slow clients and keep-alive), as gunicorn's own docs advise. On
the redeem benchmark (`make bench`, 2 cores, 16 clients) 4 sync workers served about
as many requests per second as 4 gthread workers × 4 threads with a p99 of 15–17 ms
instead of 25–37 ms: no thread pool, poller or GIL handoff on a request's path. Override any
of these with GUNICORN_CMD_ARGS or command-line flags.
"""

import os

worker_class = "sync"
# The CPUs this process may run on (not the host's count, which a container may not
# have); WEB_CONCURRENCY, gunicorn's usual variable, wins. Each worker holds one
# database connection: keep workers × hosts below PostgreSQL's max_connections.
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * len(os.sched_getaffinity(0)))
