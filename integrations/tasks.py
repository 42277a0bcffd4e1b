from django.conf import settings

from integrations.status import probe_history_prune, probes_run


def probes_refresh() -> str:
    """django-q2 schedule, every minute: probe all, keep the status cache fresh, prune history."""
    payload = probes_run(forced=False)
    pruned = probe_history_prune(days=settings.INTEGRATIONS_PROBE_HISTORY_DAYS)
    return f"overall={payload['overall']} pruned={pruned}"
