"""PagerDuty: Events v2 (trigger/acknowledge/resolve) and REST (find by key, resolve, note,
on-call).

Contracts: integrations/contracts/pagerduty_events.json and pagerduty_rest.json.
"""

from typing import Any
from urllib.parse import quote

import httpx
from django.conf import settings

from integrations.clients.base import HttpClient, parse_retry_after, response_json
from integrations.errors import NotConfigured

SEVERITIES = ("critical", "error", "warning", "info")
SUMMARY_MAX = 1024


class PagerDutyEventsClient(HttpClient):
    service = "pagerduty"

    def __init__(self, **timeouts: float | None):
        self._routing_key = settings.PAGERDUTY_ROUTING_KEY
        super().__init__(
            base_url=settings.PAGERDUTY_EVENTS_URL,
            enabled=settings.PAGERDUTY_ENABLED,
            required={"PAGERDUTY_ROUTING_KEY": self._routing_key},
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
        if not summary.strip() or not source.strip():
            raise ValueError("a PagerDuty event needs a summary and a source")
        payload = {"summary": summary[:SUMMARY_MAX], "source": source, "severity": severity}
        if details:
            payload["custom_details"] = details
        event = {"event_action": "trigger", "payload": payload}
        if dedup_key:
            event["dedup_key"] = dedup_key
        return self._enqueue(event)

    def acknowledge(self, *, dedup_key: str) -> str:
        return self._enqueue({"event_action": "acknowledge", "dedup_key": _key(dedup_key)})

    def resolve(self, *, dedup_key: str) -> str:
        return self._enqueue({"event_action": "resolve", "dedup_key": _key(dedup_key)})


def _key(dedup_key: str) -> str:
    """acknowledge/resolve (and the REST search) name the alert by dedup_key; PagerDuty
    refuses a blank one."""
    if not dedup_key or not dedup_key.strip():
        raise ValueError("acknowledge, resolve and the search need the alert's dedup_key")
    return dedup_key


class PagerDutyRestClient(HttpClient):
    service = "pagerduty"

    def __init__(self, **timeouts: float | None):
        super().__init__(
            base_url=settings.PAGERDUTY_API_URL,
            headers={
                "Authorization": f"Token token={settings.PAGERDUTY_API_KEY}",
                "Accept": "application/vnd.pagerduty+json;version=2",
                # The API description marks Content-Type required on every call, GETs too.
                "Content-Type": "application/json",
            },
            enabled=settings.PAGERDUTY_ENABLED,
            required={"PAGERDUTY_API_KEY": settings.PAGERDUTY_API_KEY},
            **timeouts,
        )
        self.from_email = settings.PAGERDUTY_FROM_EMAIL

    def provider_code(self, response: httpx.Response, body: Any) -> str:
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and error.get("code") is not None:
            return str(error["code"])
        return ""

    def retry_after(self, response: httpx.Response, body: Any) -> float | None:
        """Retry-After when sent, else `ratelimit-reset`: PagerDuty's seconds to wait."""
        for header in ("Retry-After", "ratelimit-reset"):
            seconds = parse_retry_after(response.headers.get(header))
            if seconds is not None:
                return seconds
        return None

    def _from(self, from_email: str = "") -> dict[str, str]:
        email = from_email or self.from_email
        if not email:
            raise NotConfigured(
                f"{self.service}: missing PAGERDUTY_FROM_EMAIL", service=self.service
            )
        return {"From": email}

    def _incident(self, incident_id: str) -> str:
        if not incident_id:
            raise ValueError("a PagerDuty incident id is required")
        return f"/incidents/{quote(incident_id, safe='')}"

    def abilities(self) -> list[str]:
        return (response_json(self.request("GET", "/abilities")) or {}).get("abilities", [])

    def incident_resolve(
        self, incident_id: str, from_email: str = "", *, resolution: str = ""
    ) -> dict:
        """Resolve the incident as `from_email` (default PAGERDUTY_FROM_EMAIL)."""
        incident: dict[str, str] = {"type": "incident_reference", "status": "resolved"}
        if resolution:
            incident["resolution"] = resolution
        response = self.request(
            "PUT",
            self._incident(incident_id),
            headers=self._from(from_email),
            json={"incident": incident},
        )
        return response_json(response) or {}

    def incident_note_add(self, incident_id: str, text: str, from_email: str = "") -> dict:
        if not text or not text.strip():
            raise ValueError("a PagerDuty note needs content")
        response = self.request(
            "POST",
            f"{self._incident(incident_id)}/notes",
            headers=self._from(from_email),
            json={"note": {"content": text}},
        )
        return response_json(response) or {}

    def incidents_by_key(self, incident_key: str, *, open_only: bool = False) -> list[dict]:
        """The incidents whose de-duplication key (an Events v2 `dedup_key`) is this one;
        `open_only`: triggered or acknowledged only. How an alert we raised through Events v2
        is found again to resolve or annotate it through REST."""
        params: dict[str, Any] = {"incident_key": _key(incident_key), "date_range": "all"}
        if open_only:
            params["statuses[]"] = ["triggered", "acknowledged"]
        body = response_json(self.request("GET", "/incidents", params=params)) or {}
        return body.get("incidents", [])

    def oncalls(self, escalation_policy_ids: list[str], *, earliest: bool = True) -> list[dict]:
        """Who is on call now for these escalation policies (one entry per level and user
        with `earliest`)."""
        params = {"escalation_policy_ids[]": list(escalation_policy_ids)}
        if earliest:
            params["earliest"] = "true"
        body = response_json(self.request("GET", "/oncalls", params=params)) or {}
        return body.get("oncalls", [])
