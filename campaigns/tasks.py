"""django-q2 entry points. Thin: they take ids and call one function."""

import logging

from campaigns.dispatcher import SliceRunner
from campaigns.services import campaign_enqueue_slice, campaigns_dispatch_watchdog

logger = logging.getLogger("campaigns.tasks")


def dispatch_slice(campaign_id: int) -> str:
    """Run one bounded slice; re-enqueue itself while there is work due now."""
    result = SliceRunner(campaign_id).run()
    logger.info(
        "campaign %s slice: %s (%s sent / %s attempted)",
        campaign_id,
        result.reason,
        result.sent,
        result.attempted,
    )
    if result.continue_now:
        campaign_enqueue_slice(campaign_id=campaign_id)
    return result.reason


def dispatch_watchdog() -> list[int]:
    """Every minute (schedule from migration 0003): heartbeat + re-kick orphaned campaigns."""
    return campaigns_dispatch_watchdog()
