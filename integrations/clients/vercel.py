"""Vercel: project env list/upsert/edit/delete and redeploy + poll (external-apis.md)."""

import time
from typing import Any
from urllib.parse import quote

import httpx
from django.conf import settings

from integrations.clients.base import HttpClient, response_json
from integrations.errors import IntegrationError, Rejected, Timeout

DEPLOY_FINAL_STATES = {"READY", "ERROR", "CANCELED"}


class VercelClient(HttpClient):
    service = "vercel"

    def __init__(self, *, project: str | None = None, **timeouts: float | None):
        self.project = project or settings.VERCEL_PROJECT
        self.team_id = settings.VERCEL_TEAM_ID
        missing = [
            n
            for n, v in [("VERCEL_TOKEN", settings.VERCEL_TOKEN), ("VERCEL_PROJECT", self.project)]
            if not v
        ]
        super().__init__(
            base_url=settings.VERCEL_API_URL,
            headers={"Authorization": f"Bearer {settings.VERCEL_TOKEN}"},
            enabled=settings.VERCEL_ENABLED,
            missing=missing,
            **timeouts,
        )

    def provider_code(self, response: httpx.Response, body: Any) -> str:
        error = body.get("error") if isinstance(body, dict) else None
        return str(error.get("code", "")) if isinstance(error, dict) else ""

    def _params(self, **extra: str) -> dict:
        return {**({"teamId": self.team_id} if self.team_id else {}), **extra}

    def _p(self) -> str:
        return quote(self.project, safe="")

    def project_get(self) -> dict:
        return (
            response_json(self.request("GET", f"/v9/projects/{self._p()}", params=self._params()))
            or {}
        )

    def env_list(self) -> list[dict]:
        body = (
            response_json(
                self.request("GET", f"/v10/projects/{self._p()}/env", params=self._params())
            )
            or {}
        )
        return body.get("envs", [])

    def env_upsert(
        self, *, key: str, value: str, targets: list[str], type: str = "encrypted"
    ) -> dict:
        """Create or overwrite one variable; a per-item failure raises Rejected."""
        body = (
            response_json(
                self.request(
                    "POST",
                    f"/v10/projects/{self._p()}/env",
                    params=self._params(upsert="true"),
                    json={"key": key, "value": value, "type": type, "target": targets},
                    ok=(200, 201),
                )
            )
            or {}
        )
        failed = body.get("failed") or []
        if failed:
            error = failed[0].get("error") or {}
            raise Rejected(service=self.service, code=str(error.get("code", "failed")))
        created = body.get("created")
        return created[0] if isinstance(created, list) and created else (created or {})

    def env_edit(self, env_id: str, **fields: Any) -> dict:
        return (
            response_json(
                self.request(
                    "PATCH",
                    f"/v9/projects/{self._p()}/env/{quote(env_id, safe='')}",
                    params=self._params(),
                    json=fields,
                )
            )
            or {}
        )

    def env_delete(self, env_id: str) -> None:
        self.request(
            "DELETE",
            f"/v9/projects/{self._p()}/env/{quote(env_id, safe='')}",
            params=self._params(),
        )

    def redeploy(self, *, deployment_id: str = "", target: str = "production") -> dict:
        payload = {"name": self.project, "target": target}
        if deployment_id:
            payload["deploymentId"] = deployment_id
        return (
            response_json(
                self.request("POST", "/v13/deployments", params=self._params(), json=payload)
            )
            or {}
        )

    def deployment(self, deployment_id: str) -> dict:
        return (
            response_json(
                self.request(
                    "GET",
                    f"/v13/deployments/{quote(deployment_id, safe='')}",
                    params=self._params(),
                )
            )
            or {}
        )

    def deployment_wait(
        self, deployment_id: str, *, timeout: float = 600, interval: float = 5
    ) -> str:
        """Poll until READY/ERROR/CANCELED; READY returns, the others raise."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.deployment(deployment_id).get("readyState", "")
            if state == "READY":
                return state
            if state in DEPLOY_FINAL_STATES:
                raise IntegrationError(
                    f"{self.service}: deployment ended {state}",
                    service=self.service,
                    code=f"deployment_{state.lower()}",
                    permanent=True,
                )
            if time.monotonic() + interval > deadline:
                raise Timeout(f"{self.service}: deployment not ready in time", service=self.service)
            time.sleep(interval)
