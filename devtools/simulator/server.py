"""A real HTTP server on 127.0.0.1 speaking our EFs and the SaaS APIs we call, with faults.

In tests: `sim = start_simulator(port=0)` runs it in a daemon thread; `sim.url`,
`sim.set_fault(...)`, `sim.state()`, `sim.stop()`. In the demo:
`manage.py simulate --port 8787`. The control endpoint mirrors the helpers:
`POST /_control/faults` {"service": "whatsapp", "status": 503} (or
{"faults": {"whatsapp": {...}, "*": {...}}}), `GET /_control/state`,
`POST /_control/reset`, `GET /_control/settings` (what points our clients here).

Strict: every route checks the request against the vendor's contract (routes.simulated),
and every answer is checked against the documented responses here; an answer the vendor
would never give is logged and kept in the state's `contract_violations` (the test
fixtures fail on it).
"""

import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from devtools.simulator import routes, routes_saas, routes_supabase, routes_vercel
from devtools.simulator.state import SimulatorState
from integrations.contracts.simulator import simulated_response_violations

logger = logging.getLogger("devtools.simulator")

PREFIXES = [
    ("/functions/v1/voucher-png", "voucher_png", routes_supabase.voucher_png),
    ("/functions/v1/send-whatsapp", "whatsapp", routes_supabase.send_whatsapp),
    ("/supabase", "supabase_management", routes_supabase.supabase_management),
    ("/auth/v1", "supabase_auth", routes_supabase.supabase_auth),
    ("/vercel", "vercel", routes_vercel.vercel),
    ("/pagerduty-events", "pagerduty_events", routes_saas.pagerduty_events),
    ("/pagerduty", "pagerduty", routes_saas.pagerduty),
    ("/slack", "slack", routes_saas.slack),
]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address, state: SimulatorState):
        self.state = state
        self.extra_settings: dict[str, Any] = {}  # e.g. the moto endpoint (manage.py simulate)
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so pooled clients reuse connections
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without NODELAY, Nagle + delayed ACK
        # hold every keep-alive answer back ~40 ms.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def do_GET(self):
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:  # not JSON: the contracts refuse it as the wrong type of body
            body = raw.decode("utf-8", "replace")
        split = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        query: dict[str, Any] = {}
        for name, value in parse_qsl(split.query, keep_blank_values=True):
            if name in query:  # a repeated parameter is a list, as the contracts read it
                before = query[name]
                query[name] = [*before, value] if isinstance(before, list) else [before, value]
            else:
                query[name] = value
        if split.path.startswith("/_control/"):
            return self._send(self._control(split.path, body))
        for prefix, service, handler in PREFIXES:
            if split.path == prefix or split.path.startswith(prefix + "/"):
                path = split.path[len(prefix) :] or "/"
                request = routes.Request(self.command, path, query, headers, body)
                # Recorded on arrival, so a hung request is visible to assertions too.
                call = self.server.state.record_call(
                    service=service,
                    method=self.command,
                    path=path,
                    query=query,
                    headers=headers,
                    body=body,
                    status=None,
                )
                try:
                    response = handler(self.server.state, request)
                except Exception as exc:  # the simulator answers 500 like a broken upstream
                    logger.exception("simulator handler failed")
                    self.server.state.contract_violation(
                        f"{service} {self.command} {path}: handler crashed ({type(exc).__name__})"
                    )
                    response = routes.Response(500, {"message": "simulator error"})
                call["status"] = response.status
                self._check_answer(service, request, response)
                return self._send(response)
        return self._send(routes.Response(404, {"message": "no such simulated service"}))

    def _check_answer(self, service: str, req: routes.Request, response: routes.Response) -> None:
        body = response.body if not isinstance(response.body, bytes) else None
        violations = simulated_response_violations(
            service,
            method=req.method,
            path=req.path,
            status=response.status,
            headers={"content-type": response.content_type, **response.headers},
            body=body,
        )
        for violation in violations:
            logger.error("simulator answered what the vendor never would: %s", violation)
            self.server.state.contract_violation(str(violation))

    def _control(self, path: str, body: Any) -> routes.Response:
        state = self.server.state
        if path == "/_control/state" and self.command == "GET":
            return routes.Response(200, state.snapshot())
        if path == "/_control/settings" and self.command == "GET":
            host, port = self.server.server_address[:2]
            return routes.Response(
                200, {**settings_for(f"http://{host}:{port}"), **self.server.extra_settings}
            )
        if path == "/_control/reset" and self.command == "POST":
            state.reset()
            return routes.Response(200, {"ok": True})
        if path == "/_control/faults" and self.command == "POST":
            if not isinstance(body, dict):
                return routes.Response(400, {"error": "invalid_request"})
            try:
                if "faults" in body:
                    state.clear_faults()
                    for service, spec in (body["faults"] or {}).items():
                        state.set_fault(service, **spec)
                else:
                    spec = dict(body)
                    state.set_fault(spec.pop("service", "*"), **spec)
            except (TypeError, ValueError) as exc:
                return routes.Response(400, {"error": "invalid_request", "detail": str(exc)})
            return routes.Response(200, {"faults": state.snapshot()["faults"]})
        return routes.Response(404, {"error": "not_found"})

    def _send(self, response: routes.Response) -> None:
        payload = response.body
        content_type = response.content_type
        if isinstance(payload, bytes):
            data = payload
        elif isinstance(payload, str):
            data, content_type = payload.encode(), "text/plain; charset=utf-8"
        else:
            data = json.dumps(payload).encode()
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout tests do that on purpose)


class Simulator:
    """A running simulator; the in-process helpers mirror the control endpoint."""

    def __init__(self, server: _Server, thread: threading.Thread | None):
        self._server, self._thread = server, thread
        self.state_obj = server.state
        host, port = server.server_address[:2]
        self.host, self.port = host, port
        self.url = f"http://{host}:{port}"

    # control
    def set_fault(self, service: str = "*", **spec: Any) -> None:
        self.state_obj.set_fault(service, **spec)

    def clear_faults(self) -> None:
        self.state_obj.clear_faults()

    def reset(self) -> None:
        self.state_obj.reset()

    def set_function_status(self, slug: str, status: str) -> None:
        self.state_obj.set_function_status(slug, status)

    def set_deploy_result(self, ready_state: str) -> None:
        self.state_obj.set_deploy_result(ready_state)

    # reads
    def state(self) -> dict:
        return self.state_obj.snapshot(mask_headers=False)

    def send_count(self, idempotency_key: str) -> int:
        return self.state_obj.send_count(idempotency_key)

    def sent_total(self) -> int:
        return self.state_obj.sent_total()

    @property
    def send_log(self) -> list[dict]:
        return self.state()["send_log"]

    def calls(self, service: str | None = None, method: str | None = None) -> list[dict]:
        return self.state_obj.calls_for(service, method)

    def settings(self) -> dict[str, Any]:
        """Settings that point every HTTP client at this simulator."""
        return settings_for(self.url)

    def add_settings(self, **extra: Any) -> None:
        """More settings `GET /_control/settings` hands out (manage.py simulate: moto)."""
        self._server.extra_settings.update(extra)

    def contract_violations(self) -> list[str]:
        return list(self.state_obj.contract_violations)

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self.state_obj.release_hangs()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


# Project refs are 20 lowercase letters (the Management API's pattern).
SIM_PROJECT_REF = "opsportaldemoproject"


def settings_for(url: str) -> dict[str, Any]:
    """Point every HTTP client at the simulator, with obviously fake demo credentials."""
    return {
        "SUPABASE_URL": url,
        "SUPABASE_FUNCTIONS_JWT": "sim-functions-jwt",
        "SUPABASE_FUNCTIONS_APIKEY": "sim-functions-apikey",
        "SUPABASE_FUNCTIONS_ENABLED": True,
        "SUPABASE_ACCESS_TOKEN": "sim-access-token",
        "SUPABASE_PROJECT_REF": SIM_PROJECT_REF,
        "VERCEL_TOKEN": "sim-vercel-token",
        "VERCEL_PROJECT": "station-web",
        "PAGERDUTY_API_KEY": "sim-pagerduty-key",
        "PAGERDUTY_ROUTING_KEY": "sim-routing-key",
        "PAGERDUTY_FROM_EMAIL": "ops@example.com",
        "SLACK_BOT_TOKEN": "xoxb-sim-bot-token",
        "SUPABASE_MANAGEMENT_URL": f"{url}/supabase",
        "SUPABASE_MANAGEMENT_ENABLED": True,
        "SUPABASE_PROJECT_URL_TEMPLATE": url,
        "VERCEL_API_URL": f"{url}/vercel",
        "VERCEL_ENABLED": True,
        "PAGERDUTY_API_URL": f"{url}/pagerduty",
        "PAGERDUTY_EVENTS_URL": f"{url}/pagerduty-events",
        "PAGERDUTY_ENABLED": True,
        "SLACK_API_URL": f"{url}/slack/api",
        "SLACK_ENABLED": True,
    }


def start_simulator(*, port: int = 0, host: str = "127.0.0.1", thread: bool = True) -> Simulator:
    """Bind now (port 0 = ephemeral); serve in a daemon thread unless `thread=False`."""
    server = _Server((host, port), SimulatorState())
    if not thread:
        return Simulator(server, None)
    worker = threading.Thread(
        target=server.serve_forever,
        name="devtools-simulator",
        daemon=True,
        kwargs={"poll_interval": 0.1},
    )
    worker.start()
    return Simulator(server, worker)
