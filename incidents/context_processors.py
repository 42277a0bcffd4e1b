"""Degraded mode while a Voucher Preview incident is open: the runbook's copy on every page,
until the incident is resolved (even if a probe turns green in between)."""

import logging

from django.db import DatabaseError

from incidents.models import OPEN_STATUSES, Incident

logger = logging.getLogger(__name__)

COPY = {"voucher_preview": "Voucher previews unavailable; fallback to code view."}


def incident_degraded(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {}
    try:
        open_ = list(
            Incident.objects.filter(runbook_key__in=COPY, status__in=OPEN_STATUSES)
            .order_by("id")
            .values_list("pk", "runbook_key")[:5]
        )
    except DatabaseError:  # a banner must never break the page it decorates
        logger.warning("incident banners unavailable")
        return {}
    return {
        "incident_banners": [
            {"incident_id": pk, "key": key, "message": COPY[key]} for pk, key in open_
        ]
    }
