"""An open Voucher Preview incident keeps previews in code-view mode until it is resolved,
even if the probe turns green in between (runbooks.md: "fallback to code view")."""

from incidents.models import OPEN_STATUSES, Incident


def open_voucher_preview_incident() -> str:
    pk = (
        Incident.objects.filter(runbook_key="voucher_preview", status__in=OPEN_STATUSES)
        .order_by("id")
        .values_list("pk", flat=True)
        .first()
    )
    return f"incident #{pk} is open" if pk else ""
