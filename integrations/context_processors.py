"""Degraded mode: every portal page shows the runbook's copy for each red integration.

Reads the last known status (cache, else newest stored probe rows); never probes,
so a page view never waits on an outside service. The banner goes away by itself
once a later probe (schedule, "Probe now", ?force=true) finds the integration green.
"""

import logging

from django.db import DatabaseError

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


def degraded_mode(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {}
    try:
        payload = status_latest()
    except DatabaseError:  # a status read must never break the page it decorates
        logger.warning("integrations status unavailable for the degraded-mode banner")
        return {}
    if payload is None:
        return {}
    banners = [
        {
            "key": item["key"],
            "label": item["label"],
            "reason": item["reason"],
            "message": RUNBOOK_COPY.get(item["key"], f"{item['label']} is failing."),
        }
        for item in payload["integrations"]
        if item["state"] == "red"
    ]
    context = {"degraded_banners": banners}
    if user.has_perm("integrations.view_proberesult"):
        context["integrations_status"] = payload
    return context
