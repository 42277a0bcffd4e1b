"""A project's own Auth Admin API, used only to check whether a service-role key is accepted.

`GET {project_url}/auth/v1/admin/users?per_page=1` needs the service-role key: 200 means
the key works, 401/403 means the project refuses it (revoked, or legacy keys disabled).
New `sb_secret_…` keys go in the `apikey` header; legacy JWT keys also as a Bearer token.
"""

from django.conf import settings

from integrations.clients.base import HttpClient


def project_url(project_ref: str) -> str:
    template = getattr(settings, "SUPABASE_PROJECT_URL_TEMPLATE", "https://{ref}.supabase.co")
    return template.format(ref=project_ref).rstrip("/")


class SupabaseAdminProbe(HttpClient):
    service = "supabase_auth"

    def __init__(self, *, project_ref: str, **timeouts: float | None):
        super().__init__(
            base_url=project_url(project_ref),
            required={"project_ref": project_ref},
            **timeouts,
        )

    def key_accepted(self, key: str) -> bool:
        """True when the project accepts `key` for admin calls, False on 401/403; other
        failures raise our typed errors. The key only travels in headers, never in errors."""
        headers = {"apikey": key}
        if key.startswith("eyJ"):
            headers["Authorization"] = f"Bearer {key}"
        response = self.request(
            "GET",
            "/auth/v1/admin/users",
            params={"page": "1", "per_page": "1"},
            headers=headers,
            ok=(200, 401, 403),
            retries=0,
        )
        return response.status_code == 200
