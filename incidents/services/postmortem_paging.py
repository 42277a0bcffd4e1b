"""The postmortem's paging sections: pages sent, acknowledgements, merged and linked
incidents, and (Voucher Preview) the previews that failed while the incident was open."""

from datetime import datetime

from django.db.models import Q

from incidents.models import Incident, IncidentLink
from vouchers.selectors import preview_failures_between

PREVIEW_RUNBOOK = "voucher_preview"


def _at(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S} UTC" if value else "—"


def paging_sections(incident: Incident) -> list[str]:
    lines = ["## Paging and acknowledgements", ""]
    pages = list(incident.pages.order_by("id"))
    for page in pages:
        outcome = f"sent {_at(page.sent_at)}" if page.status == "sent" else page.status
        error = f" — {page.last_error}" if page.last_error else ""
        lines.append(
            f"- {page.get_provider_display()} {page.event} (round {page.round}): {outcome}, "
            f"{page.attempts} attempt(s){error}"
        )
    if not pages:
        lines.append("- no page sent")
    for entry in incident.timeline.filter(kind="acknowledged").order_by("id"):
        lines.append(f"- {_at(entry.at)}: {entry.message}")
    lines += ["", "## Merged and linked incidents", ""]
    links = IncidentLink.objects.filter(Q(source=incident) | Q(target=incident)).select_related(
        "source", "target"
    )
    found = False
    for link in links.order_by("id"):
        found = True
        other = link.target if link.source_id == incident.pk else link.source
        if link.kind == "merged":
            how = "merged into" if link.source_id == incident.pk else "merged in:"
        else:
            how = "related:"
        lines.append(
            f"- {how} #{other.pk} {other.title} ({other.status}) by {link.created_by_name}"
        )
    if not found:
        lines.append("- none")
    if incident.runbook_key == PREVIEW_RUNBOOK:
        lines += ["", "## Failed voucher previews while open", ""]
        failures, more = preview_failures_between(
            start=incident.opened_at, end=incident.resolved_at or incident.closed_at
        )
        for f in failures:
            status = f" HTTP {f.status}" if f.status else ""
            code = f" ({f.provider_code})" if f.provider_code else ""
            lines.append(f"- {f.at:%H:%M:%S} {f.code}: {f.error}{status}{code} — {f.actor_name}")
        if more:
            lines.append("- … more not listed")
        if not failures:
            lines.append("- none recorded")
    return lines + [""]
