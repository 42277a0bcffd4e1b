"""Actions composed from the campaigns app's services and selectors."""

import math

from django.conf import settings

from campaigns import selectors as campaign_selectors
from campaigns import services as campaign_services
from campaigns.errors import CampaignError, IntegrationUnhealthy
from campaigns.models import Campaign
from incidents.actions.notify import incident_header, message, outbound
from incidents.engine.params import Param
from incidents.engine.registry import ActionContext, ActionError, register
from incidents.outbound import email_send, slack_post
from incidents.services.incidents import Impacted, incident_impacted_add

CAMPAIGN = Param("campaign_id", "Campaign id", kind="int", from_impacted="campaigns.campaign")
CAMPAIGN_IDS = Param(
    "campaign_ids", "Campaign ids (default: the incident's)", kind="int_list", required=False
)
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024


def _campaign_ids(ctx: ActionContext) -> list[int]:
    ids = ctx.params.get("campaign_ids") or [int(i) for i in ctx.impacted_ids("campaigns.campaign")]
    if not ids:
        raise ActionError("No campaigns given and none linked to the incident.")
    return ids


def _link_campaigns(ctx: ActionContext, ids: list[int]) -> None:
    names = dict(Campaign.objects.filter(pk__in=ids).values_list("pk", "name"))
    incident_impacted_add(
        incident=ctx.incident,
        impacted=[Impacted("campaigns.campaign", i, names.get(i, "")) for i in ids],
        actor=ctx.actor,
    )


@register(
    "campaigns_pause_running",
    "Pause (stop) every running campaign",
    tier="operational",
    safe_to_retry=True,
)
def campaigns_pause_running(ctx: ActionContext) -> dict:
    if ctx.dry_run:
        running = list(
            Campaign.objects.filter(state=Campaign.State.RUNNING).values_list("pk", flat=True)
        )
        ctx.log(f"would pause {len(running)} running campaign(s): {running}")
        return {"would_pause": running}
    paused = campaign_services.campaigns_pause_running(actor=ctx.actor)
    ctx.log(f"paused {len(paused)} campaign(s): {paused}")
    _link_campaigns(ctx, paused)  # resume later knows exactly which ones
    return {"paused": paused}


@register(
    "campaign_pause",
    "Pause (stop) one campaign",
    tier="operational",
    safe_to_retry=True,
    params=(CAMPAIGN,),
)
def campaign_pause(ctx: ActionContext) -> dict:
    cid = ctx.params["campaign_id"]
    if ctx.dry_run:
        ctx.log(f"would stop campaign {cid}")
        return {}
    try:
        campaign = campaign_services.campaign_stop(campaign_id=cid, actor=ctx.actor)
    except CampaignError as exc:
        raise ActionError(f"campaign {cid}: {exc}") from None
    ctx.log(f"campaign {cid} is {campaign.state}")
    _link_campaigns(ctx, [cid])
    return {"campaign_id": cid, "state": campaign.state}


@register(
    "campaigns_misconfigured",
    "Report misconfigured quiet hours and throttles",
    tier="safe",
    safe_to_retry=True,
)
def campaigns_misconfigured(ctx: ActionContext) -> dict:
    problems = campaign_selectors.campaigns_misconfigured()
    for p in problems:
        ctx.log(
            f"campaign {p['campaign_id']} {p['name']!r} ({p['state']}): {p['field']} — "
            f"{p['problem']}"
        )
    if not problems:
        ctx.log("no misconfigured quiet hours or throttles")
    return {"problems": problems}


def _provider_retry_after(initial: dict) -> tuple[int, str] | None:
    """Step 3.1's default: the Retry-After the WhatsApp function last returned."""
    found = campaign_selectors.campaign_provider_retry_after(campaign_id=initial.get("campaign_id"))
    if found is None:
        return None
    seconds, at = found
    return math.ceil(seconds), (
        f"the WhatsApp function last asked for Retry-After {seconds:g} s "
        f"(campaign {initial['campaign_id']}, {at:%Y-%m-%d %H:%M:%S} UTC)"
    )


@register(
    "campaign_reschedule_after",
    "Reschedule sends after Retry-After",
    tier="operational",
    params=(
        CAMPAIGN,
        Param(
            "seconds",
            "Retry-After (seconds)",
            kind="int",
            default=60,
            help="default 60 s: the WhatsApp function returned no Retry-After for it",
            suggest=_provider_retry_after,
        ),
    ),
)
def campaign_reschedule_after(ctx: ActionContext) -> dict:
    cid, seconds = ctx.params["campaign_id"], ctx.params["seconds"]
    if ctx.dry_run:
        ctx.log(f"would hold campaign {cid}'s sends for {seconds}s")
        return {}
    try:
        campaign = campaign_services.campaign_reschedule_after(
            campaign_id=cid, seconds=seconds, actor=ctx.actor
        )
    except CampaignError as exc:
        raise ActionError(f"campaign {cid}: {exc}") from None
    ctx.log(f"campaign {cid}: no sends before {campaign.next_send_at:%H:%M:%S} UTC")
    return {"campaign_id": cid, "next_send_at": campaign.next_send_at.isoformat()}


def _export_url(cid: int) -> str:
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}/api/campaigns/{cid}/failed-targets.csv"


def _export(cid: int) -> tuple[str, int]:
    lines = list(campaign_selectors.targets_export_csv(campaign_id=cid))
    return "".join(lines), max(len(lines) - 1, 0)


@register(
    "targets_failed_export",
    "Export failed targets (CSV)",
    tier="safe",
    safe_to_retry=True,
    params=(CAMPAIGN,),
)
def targets_failed_export(ctx: ActionContext) -> dict:
    cid = ctx.params["campaign_id"]
    _, rows = _export(cid)
    ctx.log(f"campaign {cid}: {rows} failed/invalid target(s); download: {_export_url(cid)}")
    return {"campaign_id": cid, "rows": rows, "url": _export_url(cid)}


@register(
    "whatsapp_provider_notify",
    "Notify the WhatsApp (WABA) provider, failed targets attached",
    tier="operational",
    params=(
        CAMPAIGN_IDS,
        message(
            "Our WhatsApp sends have been failing for more than 15 minutes. "
            "Failed targets are attached; please investigate on your side."
        ),
    ),
)
def whatsapp_provider_notify(ctx: ActionContext) -> dict:
    ids, attachments, links = _campaign_ids(ctx), [], []
    for cid in ids:
        csv_text, rows = _export(cid)
        links.append(f"campaign {cid}: {rows} failed target(s) — {_export_url(cid)}")
        if len(csv_text.encode()) <= MAX_ATTACHMENT_BYTES:
            attachments.append((f"campaign-{cid}-failed-targets.csv", csv_text, "text/csv"))
    body = "\n\n".join([ctx.params["text"], *links])
    to = outbound(
        ctx,
        f"e-mail the WhatsApp provider ({len(attachments)} CSV attached)",
        email_send,
        to_setting="WHATSAPP_PROVIDER_EMAIL",
        subject=incident_header(ctx),
        body=body,
        attachments=attachments,
    )
    return {"email": to, "campaigns": ids}


@register(
    "campaigns_resume",
    "Resume campaigns (refused while the WhatsApp EF is red)",
    tier="operational",
    params=(CAMPAIGN_IDS,),
)
def campaigns_resume(ctx: ActionContext) -> dict:
    ids, resumed, refused = _campaign_ids(ctx), [], []
    if ctx.dry_run:
        ctx.log(f"would start campaigns {ids} (each refused while the WhatsApp EF probe is red)")
        return {}
    for cid in ids:
        try:
            campaign = campaign_services.campaign_start(campaign_id=cid, actor=ctx.actor)
            resumed.append(cid)
            ctx.log(f"campaign {cid}: {campaign.state}")
        except CampaignError as exc:
            refused.append(cid)
            ctx.log(f"campaign {cid}: not resumed — {exc}")
    if refused:
        raise ActionError(f"not resumed: {refused} (resumed: {resumed})")
    return {"resumed": resumed}


@register(
    "campaign_status",
    "Campaign status and queue length",
    tier="safe",
    safe_to_retry=True,
    params=(CAMPAIGN,),
)
def campaign_status(ctx: ActionContext) -> dict:
    try:
        status = campaign_selectors.campaign_status(campaign_id=ctx.params["campaign_id"])
    except CampaignError as exc:
        raise ActionError(str(exc)) from None
    ctx.log(
        f"campaign {status['id']} {status['name']!r}: {status['state']}, queue length "
        f"{status['queue_length']}, counts {status['counts']}, last progress "
        f"{status['last_progress_at']}, next send {status['next_send_at']}"
    )
    return status


@register(
    "dispatcher_replay",
    "Replay the dispatcher (stop, then start) once the EF is healthy",
    tier="operational",
    params=(CAMPAIGN,),
)
def dispatcher_replay(ctx: ActionContext) -> dict:
    cid = ctx.params["campaign_id"]
    if ctx.dry_run:
        ctx.log(
            f"would stop then start campaign {cid} if the WhatsApp EF is healthy, else keep "
            "it paused and notify engineering"
        )
        return {}
    try:
        campaign = campaign_services.campaign_replay(campaign_id=cid, actor=ctx.actor)
    except IntegrationUnhealthy as exc:
        campaign_services.campaign_stop(campaign_id=cid, actor=ctx.actor)
        ctx.log(f"not replayed: {exc}; campaign {cid} kept paused")
        outbound(
            ctx,
            f"notify engineering in {settings.SLACK_ENGINEERING_CHANNEL}",
            slack_post,
            text=f"{incident_header(ctx)} Dispatcher replay of campaign {cid} refused: the "
            "WhatsApp EF is unhealthy. Campaign kept paused.",
            channel=settings.SLACK_ENGINEERING_CHANNEL,
        )
        raise ActionError("EF unhealthy: campaign kept paused, engineering notified") from None
    except CampaignError as exc:
        raise ActionError(str(exc)) from None
    ctx.log(f"campaign {cid} replayed: {campaign.state}")
    return {"campaign_id": cid, "state": campaign.state}
