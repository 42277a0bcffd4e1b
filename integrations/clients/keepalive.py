"""A lean, one-thread, keep-alive POST path for high-volume sends (the campaign dispatcher).

httpx's pool costs about 1.5 ms of CPU per request on our 2-core machines, more than
the dispatcher's whole budget per message (≤ 1 ms); `http.client` on one persistent
connection per sending thread costs about a quarter of that. Everything else is the
wrapped client's: URL, headers, timeouts, and the error classification (`error_for`),
so callers still see only our typed errors.
"""

import http.client
import json
import logging
from urllib.parse import urlsplit

import httpx

from integrations.clients.base import HttpClient
from integrations.errors import Timeout, Unavailable

logger = logging.getLogger("integrations")

OK_STATUSES = (200, 201, 202)


class KeepAliveJsonPoster:
    """Not thread-safe: one per thread. POST JSON to `client.base_url`, typed errors out."""

    def __init__(self, client: HttpClient):
        client.ensure_configured()
        self.client = client
        url = urlsplit(client.base_url)
        self.https = url.scheme == "https"
        self.host = url.hostname or ""
        self.port = url.port or (443 if self.https else 80)
        self.path = url.path or "/"
        self.headers = {
            **client._headers,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        self.conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _connect(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        conn = cls(self.host, self.port, timeout=self.client.connect_timeout)
        conn.connect()
        conn.sock.settimeout(self.client.read_timeout)
        return conn

    def post(self, payload: dict) -> tuple[int, dict]:
        """(status, parsed JSON body or {}) for an OK status; raises the typed error otherwise."""
        body = json.dumps(payload).encode()
        service = self.client.service
        for attempt in (1, 2):
            reused = self.conn is not None
            try:
                if self.conn is None:
                    self.conn = self._connect()
                self.conn.request("POST", self.path, body=body, headers=self.headers)
                response = self.conn.getresponse()
                data = response.read()
                status, headers = response.status, response.getheaders()
                if response.will_close:
                    self.close()
                break
            except TimeoutError:
                self.close()
                raise Timeout(f"{service}: no answer in time", service=service) from None
            except (OSError, http.client.HTTPException):
                self.close()
                # A kept-alive connection the server closed while idle: one fresh try.
                # (A repeat is harmless anyway: every send carries its idempotency key.)
                if reused and attempt == 1:
                    continue
                raise Unavailable(f"{service}: connection failed", service=service) from None
        if status in OK_STATUSES:
            try:
                parsed = json.loads(data) if data else {}
            except ValueError:
                parsed = {}
            return status, parsed if isinstance(parsed, dict) else {}
        error = self.client.error_for(httpx.Response(status, headers=headers, content=data))
        logger.debug("%s call failed: %s", service, error)
        raise error


class KeepAliveWhatsAppSender:
    """`SendWhatsAppClient.send` with the same contract, on a `KeepAliveJsonPoster`."""

    def __init__(self, client):
        self.client = client
        self.poster = KeepAliveJsonPoster(client)

    def send(
        self, *, to: str, template: str, variables: dict, idempotency_key: str, language: str = "en"
    ) -> str:
        status, body = self.poster.post(
            {
                "to": to,
                "template": template,
                "variables": variables,
                "idempotency_key": idempotency_key,
                "language": language,
            }
        )
        message_id = body.get("message_id")
        if not message_id:
            service = self.client.service
            raise Unavailable(
                f"{service}: accepted without a message_id",
                service=service,
                status=status,
                code="bad_response",
            )
        return str(message_id)

    def close(self) -> None:
        self.poster.close()
