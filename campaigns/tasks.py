"""django-q2 entry points. Thin: they take ids and call one function.

Their dotted names are stored in queued tasks and schedules
(`campaigns.tasks.dispatch_slice`, `campaigns.tasks.dispatch_watchdog`): keep them.
"""

from campaigns.dispatch import slice_dispatch
from campaigns.services import campaigns_dispatch_watchdog


def dispatch_slice(campaign_id: int, hops: int = 0) -> str:
    """Run one bounded slice (or stand by for the lease); re-enqueue while work is due now."""
    return slice_dispatch(campaign_id=campaign_id, hops=hops)


def dispatch_watchdog() -> list[int]:
    """Every minute (schedule from migration 0003): heartbeat + re-kick orphaned campaigns."""
    return campaigns_dispatch_watchdog()
