"""Supabase Management API: function status, function secrets, API keys (external-apis.md)."""

from typing import Any
from urllib.parse import quote

import httpx
from django.conf import settings

from integrations.clients.base import HttpClient, response_json

# CreateSecretBody: "Secret name must not start with the SUPABASE_ prefix."
RESERVED_SECRET_PREFIX = "SUPABASE_"


class SupabaseManagementClient(HttpClient):
    service = "supabase_management"

    def __init__(self, *, project_ref: str | None = None, **timeouts: float | None):
        self.project_ref = project_ref or settings.SUPABASE_PROJECT_REF
        super().__init__(
            base_url=settings.SUPABASE_MANAGEMENT_URL,
            headers={"Authorization": f"Bearer {settings.SUPABASE_ACCESS_TOKEN}"},
            enabled=settings.SUPABASE_MANAGEMENT_ENABLED,
            required={
                "SUPABASE_ACCESS_TOKEN": settings.SUPABASE_ACCESS_TOKEN,
                "SUPABASE_PROJECT_REF": self.project_ref,
            },
            **timeouts,
        )

    def _project(self, suffix: str) -> str:
        return f"/v1/projects/{quote(self.project_ref, safe='')}{suffix}"

    def provider_code(self, response: httpx.Response, body: Any) -> str:
        return str(body["code"]) if isinstance(body, dict) and body.get("code") else ""

    # --- Edge Function status ---
    def functions(self) -> list[dict]:
        return response_json(self.request("GET", self._project("/functions"))) or []

    def function(self, slug: str) -> dict:
        return (
            response_json(self.request("GET", self._project(f"/functions/{quote(slug, safe='')}")))
            or {}
        )

    # --- Edge Function secrets (names only are returned to callers) ---
    def secret_names(self) -> list[str]:
        items = response_json(self.request("GET", self._project("/secrets"))) or []
        return [item["name"] for item in items if isinstance(item, dict) and "name" in item]

    def secret_digests(self) -> dict[str, str]:
        """name → the SHA-256 digest the API shows instead of the value (never the value)."""
        items = response_json(self.request("GET", self._project("/secrets"))) or []
        return {
            item["name"]: str(item.get("value", ""))
            for item in items
            if isinstance(item, dict) and "name" in item
        }

    def secrets_set(self, values: dict[str, str]) -> None:
        if not values:
            return  # the API takes a non-empty list
        reserved = sorted(name for name in values if name.startswith(RESERVED_SECRET_PREFIX))
        if reserved:
            raise ValueError(f"secret names may not start with SUPABASE_: {', '.join(reserved)}")
        self.request(
            "POST",
            self._project("/secrets"),
            json=[{"name": name, "value": value} for name, value in values.items()],
        )

    def secrets_delete(self, names: list[str]) -> None:
        if not names:
            return
        self.request("DELETE", self._project("/secrets"), json=list(names))

    # --- API keys ---
    def api_key_create(self, *, name: str, type: str = "secret") -> dict:
        """Returns the provider's record; the caller must treat `api_key` as a secret.
        `reveal=true`: without it the API masks a secret key's `api_key`."""
        response = self.request(
            "POST",
            self._project("/api-keys"),
            params={"reveal": "true"},
            json={"type": type, "name": name},
            ok=(200, 201),
        )
        return response_json(response) or {}

    def api_key_revoke(self, key_id: str, *, reason: str) -> None:
        """Irreversible. Marks the key compromised."""
        self.request(
            "DELETE",
            self._project(f"/api-keys/{quote(key_id, safe='')}"),
            params={"was_compromised": "true", "reason": reason},
        )

    def legacy_keys_disable(self) -> None:
        self.request("PUT", self._project("/api-keys/legacy"), params={"enabled": "false"})
