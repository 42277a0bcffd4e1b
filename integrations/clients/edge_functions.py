"""Our Supabase Edge Functions: `voucher-png` and `send-whatsapp` (contracts.md).

`send-whatsapp` relays WhatsApp Cloud API errors. Those are classified by the
provider's `error.code`, not by HTTP status, because sources disagree whether
throttling arrives as 429 or 400 (external-apis.md).
"""

from typing import Any

import httpx
from django.conf import settings

from integrations.clients.base import HttpClient, parse_retry_after, response_json
from integrations.errors import IntegrationError, RateLimited, Rejected, Unavailable

# WhatsApp throttling codes: wait and retry (131056: only that recipient).
WHATSAPP_THROTTLE_CODES = frozenset({"4", "17", "80007", "130429", "131048", "131056"})
# Recipient problems: retrying the same message cannot help.
WHATSAPP_RECIPIENT_CODES = frozenset({"131026", "131030", "131047", "131049"})

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class EdgeFunctionClient(HttpClient):
    function = ""

    def __init__(self, *, connect_timeout: float | None = None, read_timeout: float | None = None):
        base = settings.SUPABASE_URL.rstrip("/")
        headers = {}
        if settings.SUPABASE_FUNCTIONS_JWT:
            headers["Authorization"] = f"Bearer {settings.SUPABASE_FUNCTIONS_JWT}"
        if settings.SUPABASE_FUNCTIONS_APIKEY:
            headers["apikey"] = settings.SUPABASE_FUNCTIONS_APIKEY
        super().__init__(
            base_url=f"{base}/functions/v1/{self.function}" if base else "",
            headers=headers,
            enabled=settings.SUPABASE_FUNCTIONS_ENABLED,
            required={"SUPABASE_URL": base},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        )

    def provider_code(self, response: httpx.Response, body: Any) -> str:
        if response.status_code in (401, 403):
            return ""  # the code is the status; sb-error-code says which auth problem
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and error.get("code") is not None:
            return str(error["code"])
        if isinstance(error, str):
            return error
        return response.headers.get("sb-error-code", "")

    def ping(self) -> httpx.Response:
        """A GET on the function: proves platform, routing and key without side effects.

        Our functions only act on POST; a deployed function answers a GET with 405 (or
        400/422 when it tries to read a body). Any of those shows the platform routed the
        call and accepted the key; 401, 404, 429 and 5xx are the platform's own answers.
        """
        return self.request("GET", "", ok=(200, 204, 400, 405, 422), retries=0)


class VoucherPngClient(EdgeFunctionClient):
    service = "voucher_png"
    function = "voucher-png"

    def render(self, *, code: str) -> bytes:
        response = self.request("POST", "", json={"code": code}, ok=(200,))
        if not response.content.startswith(PNG_SIGNATURE):
            raise Unavailable(
                f"{self.service}: answer is not a PNG",
                service=self.service,
                status=response.status_code,
                code="bad_response",
            )
        return response.content


class SendWhatsAppClient(EdgeFunctionClient):
    service = "whatsapp"
    function = "send-whatsapp"

    def send(
        self,
        *,
        to: str,
        template: str,
        variables: dict,
        idempotency_key: str,
        language: str = "en",
    ) -> str:
        """Send one template message; returns the message id. The EF never sends a key twice."""
        response = self.request(
            "POST",
            "",
            json={
                "to": to,
                "template": template,
                "variables": variables,
                "idempotency_key": idempotency_key,
                "language": language,
            },
            ok=(200, 201, 202),
        )
        body = response_json(response)
        message_id = body.get("message_id") if isinstance(body, dict) else None
        if not message_id:
            raise Unavailable(
                f"{self.service}: accepted without a message_id",
                service=self.service,
                status=response.status_code,
                code="bad_response",
            )
        return str(message_id)

    def error_for(self, response: httpx.Response) -> IntegrationError:
        status = response.status_code
        code = self.provider_code(response, response_json(response))
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if code in WHATSAPP_THROTTLE_CODES:
            return RateLimited(
                service=self.service, status=status, code=code, retry_after=retry_after
            )
        if code in WHATSAPP_RECIPIENT_CODES or code == "invalid_number":
            return Rejected(service=self.service, status=status, code=code)
        return super().error_for(response)
