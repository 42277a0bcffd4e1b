"""PagerDuty: Events v2 (trigger/acknowledge/resolve) and REST (resolve, note)."""

from typing import Any
from urllib.parse import quote

import httpx
from django.conf import settings

from integrations.clients.base import HttpClient, response_json
from integrations.errors import NotConfigured

SEVERITIES = ("critical", "error", "warning", "info")


class PagerDutyEventsClient(HttpClient):
    service = "pagerduty"

    def __init__(self, **timeouts: float | None):
        self._routing_key = settings.PAGERDUTY_ROUTING_KEY
        super().__init__(
            base_url=settings.PAGERDUTY_EVENTS_URL,
            enabled=settings.PAGERDUTY_ENABLED,
            missing=[] if self._routing_key else ["PAGERDUTY_ROUTING_KEY"],
            **timeouts,
        )

    def provider_code(self, response: httpx.Response, body: Any) -> str:
        # Events v2 errors: {"status": "invalid event", "message", "errors": [...]}
        if isinstance(body, dict) and isinstance(body.get("status"), str):
            return body["status"].replace(" ", "_")
        return ""

    def _enqueue(self, event: dict) -> str:
        body = (
            response_json(
                self.request(
                    "POST",
                    "/v2/enqueue",
                    json={"routing_key": self._routing_key, **event},
                    ok=(200, 202),
                )
            )
            or {}
        )
        return str(body.get("dedup_key", event.get("dedup_key", "")))

    def trigger(
        self,
        *,
        summary: str,
        source: str,
        severity: str = "error",
        dedup_key: str = "",
        details: dict | None = None,
    ) -> str:
        """Open (or re-trigger) an alert; returns the dedup_key to resolve it with."""
        if severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}")
        payload = {"summary": summary[:1024], "source": source, "severity": severity}
        if details:
            payload["custom_details"] = details
        event = {"event_action": "trigger", "payload": payload}
        if dedup_key:
            event["dedup_key"] = dedup_key
        return self._enqueue(event)

    def acknowledge(self, *, dedup_key: str) -> str:
        return self._enqueue({"event_action": "acknowledge", "dedup_key": dedup_key})

    def resolve(self, *, dedup_key: str) -> str:
        return self._enqueue({"event_action": "resolve", "dedup_key": dedup_key})


class PagerDutyRestClient(HttpClient):
    service = "pagerduty"

    def __init__(self, **timeouts: float | None):
        super().__init__(
            base_url=settings.PAGERDUTY_API_URL,
            headers={
                "Authorization": f"Token token={settings.PAGERDUTY_API_KEY}",
                "Accept": "application/vnd.pagerduty+json;version=2",
            },
            enabled=settings.PAGERDUTY_ENABLED,
            missing=[] if settings.PAGERDUTY_API_KEY else ["PAGERDUTY_API_KEY"],
            **timeouts,
        )
        self.from_email = settings.PAGERDUTY_FROM_EMAIL

    def provider_code(self, response: httpx.Response, body: Any) -> str:
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and error.get("code") is not None:
            return str(error["code"])
        return ""

    def _from(self) -> dict[str, str]:
        if not self.from_email:
            raise NotConfigured(
                f"{self.service}: missing PAGERDUTY_FROM_EMAIL", service=self.service
            )
        return {"From": self.from_email}

    def abilities(self) -> list[str]:
        return (response_json(self.request("GET", "/abilities")) or {}).get("abilities", [])

    def incident_resolve(self, incident_id: str) -> dict:
        return (
            response_json(
                self.request(
                    "PUT",
                    f"/incidents/{quote(incident_id, safe='')}",
                    headers=self._from(),
                    json={"incident": {"type": "incident_reference", "status": "resolved"}},
                )
            )
            or {}
        )

    def incident_note(self, incident_id: str, *, content: str) -> dict:
        return (
            response_json(
                self.request(
                    "POST",
                    f"/incidents/{quote(incident_id, safe='')}/notes",
                    headers=self._from(),
                    json={"note": {"content": content}},
                )
            )
            or {}
        )
