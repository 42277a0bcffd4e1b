"""Actions that talk to people and pagers: Slack, PagerDuty, e-mail; plus probes."""

from django.conf import settings

from incidents.engine.params import Param
from incidents.engine.registry import (
    ActionContext,
    ActionError,
    RetryableActionError,
    register,
)
from incidents.outbound import (
    OutboundError,
    email_send,
    pagerduty_close_route,
    pagerduty_resolve,
    pagerduty_trigger,
    slack_post,
)
from integrations.clients.supabase_management import SupabaseManagementClient
from integrations.errors import IntegrationError, Timeout, Unavailable
from integrations.services import probes_run_by


def message(default: str | None = None) -> Param:
    """The message an outbound action sends (a runbook's words as the default)."""
    return Param("text", "Message", kind="text", default=default)


def outbound(ctx: ActionContext, what: str, call, *args, **kwargs):
    """Call one outbound function; a dry run only says what it would do."""
    if ctx.dry_run:
        ctx.log(f"would {what}")
        return None
    try:
        result = call(*args, **kwargs)
    except OutboundError as exc:
        raise (RetryableActionError if exc.transient else ActionError)(f"{what}: {exc}") from None
    ctx.log(f"{what}: done")
    return result


def incident_header(ctx: ActionContext) -> str:
    return f"[OpsPortal incident #{ctx.incident.pk} — {ctx.incident.title}]"


@register(
    "slack_post",
    "Post to Slack",
    tier="operational",
    params=(
        message(),
        Param("channel", "Channel (default: the #ops channel)", required=False),
    ),
)
def slack_post_action(ctx: ActionContext) -> dict:
    text = f"{incident_header(ctx)} {ctx.params['text']}"
    channel = ctx.params.get("channel") or settings.SLACK_OPS_CHANNEL
    ts = outbound(ctx, f"post to Slack {channel}: {text!r}", slack_post, text=text, channel=channel)
    return {"channel": channel, "ts": ts}


def _pd_dedup_key(ctx: ActionContext) -> str:
    return ctx.incident.pagerduty_dedup_key or f"opsportal-incident-{ctx.incident.pk}"


@register(
    "pagerduty_trigger", "Trigger the PagerDuty alert", tier="operational", safe_to_retry=True
)
def pagerduty_trigger_action(ctx: ActionContext) -> dict:
    # Same dedup key every time: re-triggering updates the one alert (safe to retry).
    dedup_key = _pd_dedup_key(ctx)
    severity = {"sev1": "critical", "sev2": "error"}.get(ctx.incident.severity, "warning")
    key = outbound(
        ctx,
        f"trigger PagerDuty alert {dedup_key} ({severity})",
        pagerduty_trigger,
        summary=f"{ctx.incident.runbook_title}: {ctx.incident.title}",
        dedup_key=dedup_key,
        severity=severity,
        details={"incident_id": ctx.incident.pk, "runbook": ctx.incident.runbook_key},
    )
    if key and not ctx.incident.pagerduty_dedup_key:
        type(ctx.incident).objects.filter(pk=ctx.incident.pk).update(pagerduty_dedup_key=key)
    return {"dedup_key": key or dedup_key}


@register(
    "pagerduty_resolve",
    "Close the PagerDuty incident (REST: resolve with a note; else an Events v2 resolve)",
    tier="operational",
    safe_to_retry=True,
)
def pagerduty_resolve_action(ctx: ActionContext) -> dict:
    """The runbooks' "close the incident in PagerDuty": with a REST key, the PagerDuty
    incident is resolved by a person (From) with a note; otherwise an Events v2 resolve."""
    dedup_key = _pd_dedup_key(ctx)
    via = pagerduty_close_route()
    how = (
        f"REST: note + resolve as {settings.PAGERDUTY_FROM_EMAIL}"
        if via == "rest"
        else "Events v2 resolve"
    )
    note = (
        f"Closed from OpsPortal incident #{ctx.incident.pk} ({ctx.incident.title}) "
        f"by {ctx.actor_name}."
    )
    closed = outbound(
        ctx,
        f"close the PagerDuty incident {dedup_key} ({how})",
        pagerduty_resolve,
        dedup_key=dedup_key,
        note=note,
    )
    if closed is None:  # dry run
        return {"dedup_key": dedup_key, "via": via}
    ctx.log(str(closed))
    return {"dedup_key": dedup_key, "via": closed.via, "incidents": closed.incidents}


@register(
    "engineering_notify",
    "Notify engineering (Slack)",
    tier="operational",
    params=(
        message(
            "Campaign dispatcher stalled and the WhatsApp EF is unreachable; campaigns "
            "are kept paused. Please investigate."
        ),
    ),
)
def engineering_notify(ctx: ActionContext) -> dict:
    channel = settings.SLACK_ENGINEERING_CHANNEL
    text = f"{incident_header(ctx)} {ctx.params['text']}"
    outbound(ctx, f"post to Slack {channel}", slack_post, text=text, channel=channel)
    return {"channel": channel}


@register(
    "dataops_notify",
    "Notify Data Ops (Slack + e-mail)",
    tier="operational",
    params=(
        message(
            "OCR mapping produced a wrong station scope for the vouchers of this "
            "incident; please check the mapping."
        ),
    ),
)
def dataops_notify(ctx: ActionContext) -> dict:
    text = f"{incident_header(ctx)} {ctx.params['text']}"
    channel = settings.SLACK_DATAOPS_CHANNEL
    outbound(ctx, f"post to Slack {channel}", slack_post, text=text, channel=channel)
    sent_to = None
    if settings.DATAOPS_EMAIL:
        sent_to = outbound(
            ctx,
            "e-mail Data Ops",
            email_send,
            to_setting="DATAOPS_EMAIL",
            subject=incident_header(ctx),
            body=text,
        )
    else:
        ctx.log("DATAOPS_EMAIL not set: Slack only")
    return {"channel": channel, "email": sent_to}


@register(
    "vendor_support_notify",
    "Communicate to vendor support (e-mail)",
    tier="operational",
    params=(message(),),
)
def vendor_support_notify(ctx: ActionContext) -> dict:
    to = outbound(
        ctx,
        "e-mail vendor support",
        email_send,
        to_setting="VENDOR_SUPPORT_EMAIL",
        subject=incident_header(ctx),
        body=ctx.params["text"],
    )
    return {"email": to}


@register(
    "integrations_reprobe",
    "Re-probe every integration now (force)",
    tier="safe",
    safe_to_retry=True,
)
def integrations_reprobe(ctx: ActionContext) -> dict:
    if ctx.dry_run:
        ctx.log("would probe every integration now (GET /api/integrations/status?force=true)")
        return {}
    payload = probes_run_by(actor=ctx.actor)
    for item in payload["integrations"]:
        ctx.log(f"{item['key']}: {item['state']} ({item['reason']}) {item.get('detail', '')}")
    return {
        "overall": payload["overall"],
        "states": {i["key"]: i["state"] for i in payload["integrations"]},
    }


@register(
    "supabase_function_status",
    "Edge Function deployment status (Supabase Management API)",
    tier="safe",
    safe_to_retry=True,
    params=(Param("function", "Function slug", default="voucher-png"),),
)
def supabase_function_status(ctx: ActionContext) -> dict:
    slug = ctx.params["function"]
    try:
        info = SupabaseManagementClient().function(slug)
    except (Timeout, Unavailable) as exc:
        raise RetryableActionError(str(exc)) from None
    except IntegrationError as exc:
        raise ActionError(str(exc)) from None
    status, version = info.get("status", "?"), info.get("version", "?")
    ctx.log(f"{slug}: {status}, version {version}")
    if status != "ACTIVE":
        ctx.log(f"{slug} is not ACTIVE: redeploy it (runbook resolution step)")
    return {"function": slug, "status": status, "version": version}
