"""Actions on OpsPortal itself: the resolution audit entry, the postmortem, staff sessions."""

import audit
from incidents.engine.params import Param
from incidents.engine.registry import ActionContext, ActionError, register
from incidents.models import StepRun
from incidents.services.postmortem import incident_postmortem_generate
from staff.selectors import staff_access_counts
from staff.services import SessionsNotInDatabase, staff_sessions_invalidate


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


def _sign_out_consequences(params: dict) -> list[str]:
    counts = staff_access_counts()
    said = [
        f"Signs everyone out: {counts['sessions']} staff session(s) end, including yours as "
        "the approver; everyone signs in again."
    ]
    if params.get("revoke_api_tokens"):
        said.append(
            f"Revokes every active staff API token ({counts['api_tokens']}): scripts using "
            "them stop working until new tokens are issued."
        )
    return said


@register(
    "admin_sessions_invalidate",
    "Invalidate all admin sessions (and optionally staff API tokens)",
    tier="risky",
    consequences=_sign_out_consequences,
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
    revoke = ctx.params.get("revoke_api_tokens", False)
    if ctx.dry_run:
        counts = staff_access_counts()
        ctx.log(f"would delete {counts['sessions']} active session(s)")
        if revoke:
            ctx.log(f"would revoke {counts['api_tokens']} active staff API token(s)")
        return {}
    try:
        result = staff_sessions_invalidate(
            actor=ctx.actor,
            actor_name=ctx.actor_name,
            revoke_api_tokens=revoke,
            reason=f"incident #{ctx.incident.pk} ({ctx.incident.runbook_title})",
            incident_id=ctx.incident.pk,
            notice=f"the sign-out step of incident #{ctx.incident.pk}",
        )
    except SessionsNotInDatabase as exc:
        raise ActionError(str(exc)) from None
    ctx.log(f"deleted {result['sessions_deleted']} session(s); everyone signs in again")
    if revoke:
        ctx.log(f"revoked {result['api_tokens_revoked']} staff API token(s)")
    return result
