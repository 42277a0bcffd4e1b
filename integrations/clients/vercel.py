"""Vercel: project env list/upsert/edit/delete, and redeploying production (contracts/vercel.json).

A deployment that is not from git must carry its files or the `deploymentId` of the
deployment to redeploy, so redeploying means: find the deployment that serves production
now (`production_deployment`, also what a dry run shows), create a new one from it
(`redeploy_production`, `forceNew=1` so the build really runs again and picks up changed
environment variables), then poll its `readyState` (`deployment_wait`).
"""

import time
from typing import Any
from urllib.parse import quote

import httpx
from django.conf import settings

from integrations.clients.base import HttpClient, parse_retry_after, response_json
from integrations.errors import DeploymentFailed, Rejected, Timeout

# BLOCKED never becomes READY on its own; waiting on it would only end in the timeout.
DEPLOY_FAILED_STATES = {"ERROR", "CANCELED", "BLOCKED"}
ENV_TARGETS = ("production", "preview", "development")
ENV_TYPES = ("system", "encrypted", "plain", "sensitive")


class VercelClient(HttpClient):
    service = "vercel"

    def __init__(self, *, project: str | None = None, **timeouts: float | None):
        self.project = project or settings.VERCEL_PROJECT
        self.team_id = settings.VERCEL_TEAM_ID
        super().__init__(
            base_url=settings.VERCEL_API_URL,
            headers={"Authorization": f"Bearer {settings.VERCEL_TOKEN}"},
            enabled=settings.VERCEL_ENABLED,
            required={"VERCEL_TOKEN": settings.VERCEL_TOKEN, "VERCEL_PROJECT": self.project},
            **timeouts,
        )

    def provider_code(self, response: httpx.Response, body: Any) -> str:
        error = body.get("error") if isinstance(body, dict) else None
        return str(error.get("code", "")) if isinstance(error, dict) else ""

    def retry_after(self, response: httpx.Response, body: Any) -> float | None:
        """Retry-After when sent; else X-RateLimit-Reset or the body's error.limit.reset,
        both UTC epoch seconds (rest-api/errors)."""
        seconds = parse_retry_after(response.headers.get("Retry-After"))
        if seconds is not None:
            return seconds
        error = body.get("error") if isinstance(body, dict) else None
        limit = error.get("limit") if isinstance(error, dict) else None
        reset = response.headers.get("X-RateLimit-Reset") or (
            limit.get("reset") if isinstance(limit, dict) else None
        )
        try:
            return max(0.0, float(reset) - time.time())
        except (TypeError, ValueError):
            return None

    def _params(self, **extra: str) -> dict:
        return {**({"teamId": self.team_id} if self.team_id else {}), **extra}

    def _p(self) -> str:
        return quote(self.project, safe="")

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return response_json(self.request(method, path, **kwargs))

    def project_get(self) -> dict:
        return self._json("GET", f"/v9/projects/{self._p()}", params=self._params()) or {}

    # --- environment variables ---------------------------------------------------------

    def env_list(self) -> list[dict]:
        body = self._json("GET", f"/v10/projects/{self._p()}/env", params=self._params()) or {}
        if "envs" not in body and "key" in body:
            return [body]  # the API may answer a single variable instead of a list
        return body.get("envs", [])

    def env_upsert(
        self, *, key: str, value: str, targets: list[str], type: str = "encrypted"
    ) -> dict:
        """Create or overwrite one variable; a per-item failure raises Rejected."""
        if not key or not targets or not set(targets) <= set(ENV_TARGETS):
            raise ValueError(f"an env variable needs a key and targets from {ENV_TARGETS}")
        if type not in ENV_TYPES:
            raise ValueError(f"env type must be one of {ENV_TYPES}")
        body = (
            self._json(
                "POST",
                f"/v10/projects/{self._p()}/env",
                params=self._params(upsert="true"),
                json={"key": key, "value": value, "type": type, "target": targets},
                ok=(200, 201),
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
        path = f"/v9/projects/{self._p()}/env/{quote(env_id, safe='')}"
        return self._json("PATCH", path, params=self._params(), json=fields) or {}

    def env_delete(self, env_id: str) -> None:
        path = f"/v9/projects/{self._p()}/env/{quote(env_id, safe='')}"
        self.request("DELETE", path, params=self._params())

    # --- deployments -------------------------------------------------------------------

    def production_deployment(self) -> dict:
        """The deployment serving production: {"id", "name", "url", "found_by"}.

        The newest READY production deployment of the project; when the list has none,
        the project's own record (`targets.production`, else its latest production
        deployment). Raises Rejected("no_production_deployment") when there is none.
        """
        listed = (
            self._json(
                "GET",
                "/v7/deployments",
                params=self._params(
                    projectId=self.project, target="production", state="READY", limit="1"
                ),
            )
            or {}
        ).get("deployments") or []
        if listed and listed[0].get("uid"):
            found = listed[0]
            return {
                "id": found["uid"],
                "name": found.get("name", ""),
                "url": found.get("url", ""),
                "found_by": "deployments list",
            }
        project = self.project_get()
        current = (project.get("targets") or {}).get("production") or {}
        if not current.get("id"):
            latest = [
                d
                for d in project.get("latestDeployments") or []
                if d.get("target") == "production" and d.get("readyState") == "READY"
            ]
            current = latest[0] if latest else {}
        if not current.get("id"):
            raise Rejected(
                f"{self.service}: the project has no production deployment to redeploy",
                service=self.service,
                code="no_production_deployment",
            )
        return {
            "id": current["id"],
            "name": current.get("name") or project.get("name", ""),
            "url": current.get("url", ""),
            "found_by": "project",
        }

    def redeploy_production(self, *, deployment: dict | None = None) -> dict:
        """Start a new production build of `deployment` (default: `production_deployment()`);
        returns the new deployment (its `id` is what `deployment_wait` polls)."""
        source = deployment or self.production_deployment()
        return (
            self._json(
                "POST",
                "/v13/deployments",
                params=self._params(forceNew="1"),
                json={
                    "name": source.get("name") or self.project,
                    "project": self.project,
                    "deploymentId": source["id"],
                    "target": "production",
                },
            )
            or {}
        )

    def deployment(self, deployment_id: str) -> dict:
        path = f"/v13/deployments/{quote(deployment_id, safe='')}"
        return self._json("GET", path, params=self._params()) or {}

    def deployment_wait(
        self, deployment_id: str, *, timeout: float = 600, interval: float = 5
    ) -> str:
        """Poll `readyState` until READY (returned); ERROR, CANCELED or BLOCKED raise
        DeploymentFailed, running out of `timeout` raises Timeout."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.deployment(deployment_id).get("readyState", "")
            if state == "READY":
                return state
            if state in DEPLOY_FAILED_STATES:
                raise DeploymentFailed(
                    f"{self.service}: deployment ended {state}",
                    service=self.service,
                    code=f"deployment_{state.lower()}",
                    state=state,
                )
            if time.monotonic() + interval > deadline:
                raise Timeout(f"{self.service}: deployment not ready in time", service=self.service)
            time.sleep(interval)
