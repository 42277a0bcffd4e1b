from django.conf import settings
from django.core.checks import Error, register


@register()
def check_probe_timeouts(app_configs, **kwargs):
    timeout = settings.INTEGRATIONS_PROBE_TIMEOUT
    errors = []
    if timeout <= 0:
        errors.append(
            Error("INTEGRATIONS_PROBE_TIMEOUT must be above 0 seconds.", id="integrations.E001")
        )
    elif timeout + 1 >= settings.Q_CLUSTER.get("timeout", 120):
        errors.append(
            Error(
                "INTEGRATIONS_PROBE_TIMEOUT + 1 s must stay below Q_TIMEOUT, or the every-minute "
                "probe task is killed before it can store its results.",
                id="integrations.E002",
            )
        )
    if settings.INTEGRATIONS_PROBE_SLOW_MS >= timeout * 1000:
        errors.append(
            Error(
                "INTEGRATIONS_PROBE_SLOW_MS must be below INTEGRATIONS_PROBE_TIMEOUT, or no probe "
                "can ever be amber/slow.",
                id="integrations.E003",
            )
        )
    return errors
