"""Slack Web API `chat.postMessage` (+ `auth.test` for the probe).

Slack reports most failures as HTTP 200 with {"ok": false, "error": …}; those
are mapped to typed errors here so callers never read `ok` themselves.
"""

from typing import Any

import httpx
from django.conf import settings

from integrations.clients.base import HttpClient, parse_retry_after, response_json
from integrations.errors import IntegrationError, RateLimited, Rejected, Unavailable

RATE_LIMIT_ERRORS = {"ratelimited", "rate_limited"}
SERVER_ERRORS = {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}


class SlackClient(HttpClient):
    service = "slack"

    def __init__(self, **timeouts: float | None):
        super().__init__(
            base_url=settings.SLACK_API_URL,
            headers={"Authorization": f"Bearer {settings.SLACK_BOT_TOKEN}"},
            enabled=settings.SLACK_ENABLED,
            required={"SLACK_BOT_TOKEN": settings.SLACK_BOT_TOKEN},
            **timeouts,
        )
        self.default_channel = settings.SLACK_OPS_CHANNEL

    def provider_code(self, response: httpx.Response, body: Any) -> str:
        return str(body.get("error", "")) if isinstance(body, dict) else ""

    def error_for(self, response: httpx.Response) -> IntegrationError:
        code = self.provider_code(response, response_json(response))
        if code in RATE_LIMIT_ERRORS or response.status_code == 429:
            return RateLimited(
                service=self.service,
                status=response.status_code,
                code=code or "429",
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if response.status_code == 200:  # {"ok": false}
            if code in SERVER_ERRORS:
                return Unavailable(service=self.service, status=200, code=code)
            return Rejected(service=self.service, status=200, code=code or "not_ok")
        return super().error_for(response)

    def _call(self, method: str, payload: dict | None = None) -> dict:
        response = self.request(
            "POST",
            f"/{method}",
            json=payload or {},
            # Slack reads a JSON body only with this type, and warns without the charset.
            headers={"Content-Type": "application/json; charset=utf-8"},
            ok=(200,),
        )
        body = response_json(response)
        if not isinstance(body, dict):
            raise Rejected(
                service=self.service,
                status=response.status_code,
                code="bad_response",
                permanent=False,
            )
        if not body.get("ok"):
            raise self.error_for(response)
        return body

    def auth_test(self) -> dict:
        return self._call("auth.test")

    def post_message(self, *, text: str, channel: str = "", blocks: list | None = None) -> str:
        """Returns the message `ts`."""
        if not (text and text.strip()) and not blocks:
            raise ValueError("a Slack message needs text or blocks")
        payload: dict[str, Any] = {"channel": channel or self.default_channel, "text": text}
        if blocks:
            payload["blocks"] = blocks
        return str(self._call("chat.postMessage", payload).get("ts", ""))
