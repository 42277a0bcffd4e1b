"""One small HTTP base for every client: explicit timeouts, bounded retries, typed errors.

One pooled `httpx.Client` per process is shared by all clients and threads
(httpx's connection pool is thread-safe); a forked child builds its own, so
pooled sockets are never shared across processes. Timeouts, headers and URLs
travel with each request, so settings changes (tests, reconfiguration) apply at
once without rebuilding the pool.

Error messages are built from the service name, HTTP status and provider code
only: never from URLs (a Slack webhook URL is a secret), headers or bodies.
"""

import email.utils
import logging
import os
import socket
import threading
import time
from collections.abc import Iterable
from typing import Any

import httpx
from django.conf import settings

from integrations.errors import (
    IntegrationError,
    NotConfigured,
    RateLimited,
    Rejected,
    Timeout,
    Unavailable,
)

logger = logging.getLogger("integrations")

_pool_lock = threading.Lock()
_pool: httpx.Client | None = None
_pool_pid: int | None = None

# GETs only: retrying a write could do it twice.
RETRYABLE_STATUSES = {502, 503, 504}
RETRY_BACKOFF_SECONDS = 0.2


def shared_http_client() -> httpx.Client:
    global _pool, _pool_pid
    pid = os.getpid()
    if _pool is None or _pool_pid != pid:
        with _pool_lock:
            if _pool is None or _pool_pid != pid:
                limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
                _pool = httpx.Client(
                    # Request/response calls: send headers and body without waiting on Nagle.
                    transport=httpx.HTTPTransport(
                        limits=limits,
                        socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
                    ),
                    follow_redirects=False,
                    trust_env=False,  # never route through a proxy picked up from the environment
                )
                _pool_pid = pid
    return _pool


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date; None when absent or garbage."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - time.time()
    return max(0.0, seconds)


def response_json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class HttpClient:
    """Base for one external service. Subclasses set `service` and override `provider_code`."""

    service = "integration"

    def __init__(
        self,
        *,
        base_url: str,
        headers: dict[str, str] | None = None,
        enabled: bool = True,
        required: dict[str, Any] | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self._headers = headers or {}
        self.enabled = enabled
        # Not configured while a required value (setting name → value) is empty.
        self.missing = [name for name, value in (required or {}).items() if not value]
        self.connect_timeout = connect_timeout or settings.INTEGRATIONS_CONNECT_TIMEOUT
        self.read_timeout = read_timeout or settings.INTEGRATIONS_READ_TIMEOUT

    @property
    def configured(self) -> bool:
        return self.enabled and not self.missing and bool(self.base_url)

    def ensure_configured(self) -> None:
        if not self.enabled:
            raise NotConfigured(f"{self.service}: switched off", service=self.service)
        if self.missing or not self.base_url:
            names = ", ".join(self.missing) or "base URL"
            raise NotConfigured(f"{self.service}: missing {names}", service=self.service)

    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.read_timeout, connect=self.connect_timeout)

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict | None = None,
        headers: dict[str, str] | None = None,
        ok: Iterable[int] = (200, 201, 202, 204),
        retries: int | None = None,
        url: str | None = None,
    ) -> httpx.Response:
        """Send one request; return the response when its status is in `ok`, else raise.

        `retries` defaults to 1 for GET and 0 otherwise; only connection errors
        and 502/503/504 are retried, never timeouts (the bound on time matters more).
        """
        self.ensure_configured()
        method = method.upper()
        if retries is None:
            retries = 1 if method == "GET" else 0
        target = url or f"{self.base_url}{path}"
        merged = {**self._headers, **(headers or {})}
        ok = set(ok)
        attempt = 0
        while True:
            attempt += 1
            try:
                response = shared_http_client().request(
                    method,
                    target,
                    json=json,
                    params=params,
                    headers=merged,
                    timeout=self.timeout(),
                )
            except httpx.TimeoutException:
                raise Timeout(f"{self.service}: no answer in time", service=self.service) from None
            except httpx.TransportError:
                if attempt <= retries:
                    time.sleep(RETRY_BACKOFF_SECONDS)
                    continue
                raise Unavailable(
                    f"{self.service}: connection failed", service=self.service
                ) from None
            if response.status_code in ok:
                return response
            if response.status_code in RETRYABLE_STATUSES and attempt <= retries:
                time.sleep(RETRY_BACKOFF_SECONDS)
                continue
            error = self.error_for(response)
            # INFO, not WARNING: a throttled campaign produces these by the hundred, and the
            # caller decides what is worth a warning. The message holds status and code only.
            logger.info("%s call failed: %s", self.service, error)
            raise error

    # --- classification -------------------------------------------------------------

    def provider_code(self, response: httpx.Response, body: Any) -> str:
        """The provider's own error code in this response, '' when none."""
        return ""

    def retry_after(self, response: httpx.Response, body: Any) -> float | None:
        """Seconds to wait before retrying a throttled call; vendors with their own
        rate-limit headers override this (Retry-After is the HTTP standard one)."""
        return parse_retry_after(response.headers.get("Retry-After"))

    def error_for(self, response: httpx.Response) -> IntegrationError:
        status = response.status_code
        body = response_json(response)
        code = self.provider_code(response, body)
        if status == 429:
            return RateLimited(
                service=self.service,
                status=status,
                code=code or "429",
                retry_after=self.retry_after(response, body),
            )
        if status >= 500:
            return Unavailable(service=self.service, status=status, code=code)
        if 400 <= status < 500:
            return Rejected(service=self.service, status=status, code=code or str(status))
        return Unavailable(service=self.service, status=status, code=code or "unexpected_status")
