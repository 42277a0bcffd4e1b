"""Actions on OpsPortal itself: the resolution audit entry, the postmortem, staff sessions."""

from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

import audit
from incidents.engine.params import Param
from incidents.engine.registry import ActionContext, register
from incidents.models import StepRun
from incidents.services.postmortem import incident_postmortem_generate
from opsportal.models import ApiToken


@register(
    "incident_resolution_audit",
    "Write the incident_resolution audit entry",
    tier="operational",
    params=(
        Param(
            "summary", "Summary", kind="text", help="What happened, what was done, what is left."
        ),
    ),
)
def incident_resolution_audit(ctx: ActionContext) -> dict:
    summary = ctx.params["summary"]
    runs = list(
        ctx.incident.runs.filter(dry_run=False, status=StepRun.Status.SUCCEEDED).values_list(
            "action_key", flat=True
        )
    )
    ctx.log(f"incident_resolution entry: {len(summary)} characters, {len(runs)} actions run")
    entry = audit.record(
        action="incident_resolution",
        actor=ctx.actor,
        actor_name=ctx.actor_name,
        target=ctx.incident,
        incident_id=ctx.incident.pk,
        data={"summary": summary, "runbook": ctx.incident.runbook_key, "actions_run": runs},
    )
    return {"audit_entry_id": entry.pk}


@register("postmortem_draft", "Write the postmortem draft", tier="safe", safe_to_retry=True)
def postmortem_draft(ctx: ActionContext) -> dict:
    markdown = incident_postmortem_generate(incident=ctx.incident, actor=ctx.actor)
    ctx.log(f"postmortem draft written ({len(markdown)} characters)")
    return {"chars": len(markdown)}


@register(
    "admin_sessions_invalidate",
    "Invalidate all admin sessions (and optionally staff API tokens)",
    tier="risky",
    params=(
        Param(
            "revoke_api_tokens",
            "Also revoke every active staff API token",
            kind="bool",
            required=False,
            default=False,
        ),
    ),
)
def admin_sessions_invalidate(ctx: ActionContext) -> dict:
    now = timezone.now()
    sessions = Session.objects.filter(expire_date__gt=now)
    tokens = ApiToken.objects.filter(revoked_at__isnull=True)
    revoke = ctx.params.get("revoke_api_tokens", False)
    if ctx.dry_run:
        ctx.log(f"would delete {sessions.count()} active session(s)")
        if revoke:
            ctx.log(f"would revoke {tokens.count()} active staff API token(s)")
        return {}
    with transaction.atomic():
        deleted, _ = sessions.delete()
        revoked = tokens.update(revoked_at=now) if revoke else 0
        audit.record(
            action="staff.sessions_invalidated",
            actor=ctx.actor,
            actor_name=ctx.actor_name,
            incident_id=ctx.incident.pk,
            data={"sessions_deleted": deleted, "api_tokens_revoked": revoked},
        )
    ctx.log(f"deleted {deleted} session(s); everyone signs in again")
    if revoke:
        ctx.log(f"revoked {revoked} staff API token(s)")
    return {"sessions_deleted": deleted, "api_tokens_revoked": revoked}
