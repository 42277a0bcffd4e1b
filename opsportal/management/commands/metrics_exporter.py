"""Serve a worker host's metrics (`manage.py metrics_exporter --bind 0.0.0.0:9101`).

qcluster's processes write their counters to PROMETHEUS_MULTIPROC_DIR (set it for the
worker and for this command alike); this serves their sum at /metrics, behind the same
access rule as the web's (METRICS_TOKEN or METRICS_ALLOWED_IPS). Database-backed gauges
stay on the web hosts' /metrics (`--with-state` adds them here too).
"""

import os
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.core.management.base import BaseCommand, CommandError
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4 as CONTENT_TYPE

from opsportal.metrics import exposition
from opsportal.metrics.access import metrics_access


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # one line per scrape is noise
        pass


def exporter_app(*, with_state: bool):
    def app(environ, start_response):
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        status = metrics_access(environ)
        if status != 200:
            reason = {403: "403 Forbidden", 404: "404 Not Found"}[status]
            start_response(reason, [("Content-Type", "text/plain")])
            return [b""]
        body = exposition(with_state=with_state)
        start_response("200 OK", [("Content-Type", CONTENT_TYPE)])
        return [body]

    return app


class Command(BaseCommand):
    help = "Serve this host's worker metrics (PROMETHEUS_MULTIPROC_DIR) at /metrics."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1:9101", help="host:port")
        parser.add_argument(
            "--with-state", action="store_true", help="also the database-backed gauges"
        )

    def handle(self, *args, bind: str, with_state: bool, **options):
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            raise CommandError("PROMETHEUS_MULTIPROC_DIR is not set: no worker metrics to serve.")
        host, _, port = bind.rpartition(":")
        server = make_server(
            host or "127.0.0.1",
            int(port),
            exporter_app(with_state=with_state),
            server_class=_Server,
            handler_class=_QuietHandler,
        )
        self.stdout.write(f"worker metrics at http://{bind}/metrics")
        server.serve_forever()
