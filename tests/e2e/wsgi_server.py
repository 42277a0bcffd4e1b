"""The real OpsPortal WSGI app on 127.0.0.1, port 0, for the browser tests.

Run as `python -m tests.e2e.wsgi_server` with the environment of the app
(DATABASE_URL, DEBUG, integration settings). It binds an ephemeral port and
prints `E2E_PORT=<n>` so the test fixture knows where to point the browser.
Static files (the admin's CSS) are served the way `runserver` serves them, so
screenshots look like the real portal without a collectstatic step.
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsportal.settings")
    import django

    django.setup()
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
            if os.environ.get("E2E_ACCESS_LOG"):
                super().log_message(format, *args)

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    server.daemon_threads = True
    server.set_app(StaticFilesHandler(get_wsgi_application()))
    print(f"E2E_PORT={server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
