"""Links into the auditor's browser, for any app's pages (import `audit` only)."""

from django.db import models
from django.urls import reverse
from django.utils.http import urlencode


def audit_entries_url(
    obj: models.Model | None = None,
    *,
    target_type: str = "",
    target_id: str | int = "",
    incident_id: int | None = None,
    actor: str = "",
) -> str:
    """The browser filtered to one object's entries (or an incident's, or an actor's).

    `audit_entries_url(voucher)` == "/admin/audit/auditentry/browse/?target_type=vouchers.voucher&target_id=123".
    """
    params: dict[str, str] = {}
    if obj is not None:
        target_type, target_id = obj._meta.label_lower, obj.pk
    if target_type:
        params["target_type"] = target_type
    if target_id != "":
        params["target_id"] = str(target_id)
    if incident_id:
        params["incident"] = str(incident_id)
    if actor:
        params["actor"] = actor
    url = reverse("admin:audit_auditentry_browse")
    return f"{url}?{urlencode(params)}" if params else url
