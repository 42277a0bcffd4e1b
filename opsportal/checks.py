"""Start-up checks with stable ids: a broken configuration is refused, not discovered later."""

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.compatibility)
def check_task_queue(app_configs, **kwargs):
    q = settings.Q_CLUSTER
    errors = []
    if q.get("timeout") and q.get("retry") and q["timeout"] >= q["retry"]:
        errors.append(
            Error(
                "Q_TIMEOUT must be below Q_RETRY, or a slow task is started twice.",
                id="opsportal.E001",
            )
        )
    broker = settings.Q_BROKER_URL
    if broker and not broker.startswith(("redis://", "rediss://", "unix://")):
        errors.append(
            Error("Q_BROKER_URL must be empty (ORM broker) or a redis:// URL.", id="opsportal.E002")
        )
    return errors


@register(Tags.compatibility)
def check_integrations(app_configs, **kwargs):
    required = {
        "SUPABASE_FUNCTIONS_ENABLED": ["SUPABASE_URL"],
        "SUPABASE_MANAGEMENT_ENABLED": [
            "SUPABASE_MANAGEMENT_URL",
            "SUPABASE_ACCESS_TOKEN",
            "SUPABASE_PROJECT_REF",
        ],
        "VERCEL_ENABLED": ["VERCEL_API_URL", "VERCEL_TOKEN", "VERCEL_PROJECT"],
        "PAGERDUTY_ENABLED": ["PAGERDUTY_EVENTS_URL"],
        "SLACK_ENABLED": ["SLACK_API_URL", "SLACK_BOT_TOKEN"],
    }
    errors = []
    for switch, names in required.items():
        if getattr(settings, switch, False):
            missing = [n for n in names if not getattr(settings, n, "")]
            if missing:
                errors.append(
                    Error(
                        f"{switch} is true but {', '.join(missing)} is not set.",
                        hint=f"Set {', '.join(missing)} or {switch}=false.",
                        id="opsportal.E010",
                    )
                )
    return errors
