"""Degraded mode: every portal page shows the runbook's copy for each red integration.

Reads the last known status (cache, else newest stored probe rows); never probes,
so a page view never waits on an outside service. The banner goes away by itself
once a later probe (schedule, "Probe now", ?force=true) finds the integration green.
Another app can keep an integration degraded while its probe is green (the degraded-mode
hook, integrations/degraded.py): the banner then shows the same copy with the reason.
"""

import logging

from django.db import DatabaseError

from integrations.degraded import degraded_override
from integrations.probes import registered_probes
from integrations.status import status_latest

logger = logging.getLogger("integrations")

# From docs/runbooks.md: what support should know and do while it is red.
RUNBOOK_COPY = {
    "voucher_png": "Voucher previews unavailable; fallback to code view.",
    "whatsapp": "WhatsApp sends are failing; keep campaigns paused and resume only once the "
    "send function answers 202.",
    "campaign_dispatcher": "Campaign dispatcher is stalled or has no live worker; pause running "
    "campaigns, check the queue length, and replay (stop, then start) once "
    "the WhatsApp function is healthy.",
    "pagerduty": "PagerDuty is unreachable; page the on-call engineer by phone and keep the "
    "incident timeline here.",
    "slack": "Slack is unreachable; post incident updates on the incident timeline and reach "
    "#ops another way.",
    "secrets_manager": "AWS Secrets Manager is unreachable; credential rotation cannot fetch "
    "replacement keys until it is back.",
    "vercel": "Vercel API is unreachable; environment updates and redeploys must wait or be "
    "done in the Vercel dashboard.",
    "supabase_management": "Supabase Management API is unreachable; check Edge Function "
    "status in the Supabase dashboard.",
}


def _banner(key: str, label: str, reason: str, forced_by: str = "") -> dict:
    message = RUNBOOK_COPY.get(key, f"{label} is failing.")
    return {
        "key": key,
        "label": label,
        "reason": reason,
        "message": message,
        "forced_by": forced_by,
    }


def degraded_mode(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {}
    try:
        payload = status_latest()
    except DatabaseError:  # a status read must never break the page it decorates
        logger.warning("integrations status unavailable for the degraded-mode banner")
        return {}
    red = [i for i in (payload or {}).get("integrations", ()) if i["state"] == "red"]
    banners = [_banner(i["key"], i["label"], i["reason"]) for i in red]
    labels, shown = {p.key: p.label for p in registered_probes()}, {i["key"] for i in red}
    for key in RUNBOOK_COPY:
        forced = "" if key in shown else degraded_override(key)  # "incident #12 is open"
        if forced:
            banners.append(_banner(key, labels.get(key, key), forced, forced_by=forced))
    context = {"degraded_banners": banners}
    if payload is not None and user.has_perm("integrations.view_proberesult"):
        context["integrations_status"] = payload
    return context
