"""The postmortem draft: Markdown assembled from the incident's own records."""

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

import audit
from incidents.engine.timeline import timeline_append
from incidents.models import Incident, StepRun
from incidents.services.postmortem_paging import paging_sections

EXPORT_PERMISSIONS = ("incidents.export_postmortem", "incidents.change_incident")


def _duration(start: datetime | None, end: datetime | None) -> str:
    if not start or not end:
        return "—"
    seconds = int(max((end - start), timedelta(0)).total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m {seconds:02d}s" if hours else f"{minutes}m {seconds:02d}s"


def _at(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S} UTC" if value else "—"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _acked_by(incident: Incident) -> str:
    if not incident.acknowledged_at:
        return ""
    where = " in PagerDuty" if incident.acknowledged_via == "pagerduty" else ""
    return f" (by {incident.acknowledged_by_name or '—'}{where})"


def _pending_at_resolution(incident: Incident) -> list[str]:
    """Each time the incident was resolved with runbook steps pending: which, and why."""
    lines = []
    for entry in incident.timeline.filter(kind="resolved_with_pending").order_by("id"):
        reason = entry.data.get("reason", "")
        lines += [
            "",
            f"## Resolved with steps pending ({entry.at:%Y-%m-%d %H:%M:%S} UTC, "
            f"{entry.actor_name}: {reason})",
            "",
        ]
        lines += [f"- {p['number']} `{p['key']}` ({p['status']})" for p in entry.data["pending"]]
    return lines


def postmortem_markdown(*, incident: Incident) -> str:
    lines = [
        f"# Postmortem draft — incident #{incident.pk}: {incident.title}",
        "",
        f"- Runbook: {incident.runbook_title} (`{incident.runbook_key}`)",
        f"- Severity: {incident.get_severity_display()}",
        f"- Status: {incident.status}",
        f"- Detected: {_at(incident.detected_at)}; opened: {_at(incident.opened_at)} "
        f"by {incident.opened_by_name}",
        "",
        "## Times",
        "",
        f"- Time to detect (detected → opened): "
        f"{_duration(incident.detected_at, incident.opened_at)}",
        f"- Time to acknowledge (MTTA, opened → first acknowledgement): "
        f"{_duration(incident.opened_at, incident.acknowledged_at)}" + _acked_by(incident),
        f"- Time to mitigate: {_duration(incident.detected_at, incident.mitigated_at)}",
        f"- Time to resolve (MTTR, detected → resolved): "
        f"{_duration(incident.detected_at, incident.resolved_at)}",
        f"- Commander: {incident.commander_name or '—'}",
        "",
        "## Impacted objects",
        "",
    ]
    impacted = list(incident.impacted.all())
    lines += [f"- {i.object_type} {i.object_id} {i.object_repr}".rstrip() for i in impacted] or [
        "- none recorded"
    ]
    lines += ["", "## Mitigations used", ""]
    runs = incident.runs.filter(dry_run=False).select_related("step").order_by("id")
    for run in runs:
        outcome = run.status + (f" — {run.error}" if run.error else "")
        lines.append(
            f"- Step {run.step.number} `{run.action_key}` by {run.actor_name} "
            f"at {_at(run.finished_at or run.queued_at)}: {outcome}"
        )
    if not any(r.status == StepRun.Status.SUCCEEDED for r in runs):
        lines.append("- no action succeeded")
    lines += ["", *paging_sections(incident)]
    lines += ["## Checklist", ""]
    for step in incident.steps.all():
        mark = "x" if step.is_finished else " "
        note = f" — {step.note}" if step.note else ""
        lines.append(f"- [{mark}] {step.number} {step.text} ({step.status}){note}")
    lines += _pending_at_resolution(incident)
    lines += ["", "## Timeline", "", "| at (UTC) | who | what |", "|---|---|---|"]
    for entry in incident.timeline.order_by("id"):
        lines.append(
            f"| {entry.at:%Y-%m-%d %H:%M:%S} | {_cell(entry.actor_name)} | {_cell(entry.message)} |"
        )
    lines += ["", "## Notes", ""]
    lines += [f"- {n.at:%H:%M} {n.author_name}: {n.text}" for n in incident.notes.all()] or [
        "- none"
    ]
    lines += ["", "## Root cause, follow-ups", "", "_To be written by the incident owner._", ""]
    return "\n".join(lines)


@transaction.atomic
def incident_postmortem_generate(*, incident: Incident, actor: Any = None) -> str:
    markdown = postmortem_markdown(incident=incident)
    Incident.objects.filter(pk=incident.pk).update(postmortem_markdown=markdown)
    incident.postmortem_markdown = markdown
    timeline_append(
        incident=incident, kind="postmortem", message="Postmortem draft written.", actor=actor
    )
    audit.record(
        action="incident.postmortem_generated",
        actor=actor,
        target=incident,
        incident_id=incident.pk,
        data={"chars": len(markdown)},
    )
    return markdown


def incident_postmortem_get(*, incident: Incident, actor: Any) -> str:
    """The postmortem to download: the draft kept at resolution, else a preview built now
    (not stored until the incident is resolved). Every download is audited."""
    if not any(actor.has_perm(p) for p in EXPORT_PERMISSIONS):
        raise PermissionDenied("You need the export_postmortem permission.")
    markdown = incident.postmortem_markdown or postmortem_markdown(incident=incident)
    audit.record(
        action="incident.postmortem_downloaded",
        actor=actor,
        target=incident,
        incident_id=incident.pk,
        data={"draft": not incident.postmortem_markdown, "chars": len(markdown)},
    )
    return markdown
