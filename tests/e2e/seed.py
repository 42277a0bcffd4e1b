"""Seeding for the browser flows, through the services people's clicks end up in.

Runs in the test process against the e2e database (committed at once, so the server sees it).
Where a flow needs the past (a timer already due, last month's incidents for MTTA/MTTR), the
incident is opened through the service with an earlier detection time, or its timestamps are
moved back afterwards: time is the one thing a browser test cannot click through.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone


def person(username: str):
    return get_user_model().objects.get(username=username)


def whatsapp_incident(*, dedup_key: str, detected_minutes_ago: int = 0, title: str = ""):
    """An open WhatsApp Send Failures incident, opened by support; detected long enough ago
    that its 15-minute escalation timer may already be overdue."""
    from incidents.services import incident_open

    incident, _ = incident_open(
        runbook_key="whatsapp_send",
        actor=person("sam-support"),
        dedup_key=dedup_key,
        title=title or "WhatsApp sends failing: 429 from the send function",
        detected_at=timezone.now() - timedelta(minutes=detected_minutes_ago),
    )
    return incident


def risky_request(*, requester: str, dedup_key: str):
    """A credential-leak incident whose session invalidation `requester` asked to run."""
    from incidents.services import incident_open, step_run_request

    incident, _ = incident_open(
        runbook_key="credential_leak",
        actor=person("sam-support"),
        dedup_key=dedup_key,
        title="Service-role key pasted in a public gist",
    )
    step = incident.steps.get(key="invalidate_sessions")
    approval = step_run_request(step=step, actor=person(requester), params={})
    return incident, approval


def incident_history(*, weeks: int = 4) -> None:
    """Resolved incidents over the last weeks, for the MTTA/MTTR chart: opened, acknowledged
    and resolved through the services, then moved back in time."""
    from incidents.models import Incident
    from incidents.services import incident_acknowledge, incident_open, incident_status_set

    ops = person("olga-ops")
    now = timezone.now()
    for week in range(weeks):
        for n, (ack_min, fix_min) in enumerate(((6, 50), (14 + 4 * week, 95 + 30 * week))):
            incident, _ = incident_open(
                runbook_key="station_redeem",
                actor=ops,
                dedup_key=f"history-{week}-{n}",
                title=f"Station redeem errors (week -{week})",
            )
            incident_acknowledge(incident=incident, actor=ops)
            incident_status_set(
                incident=incident,
                status="resolved",
                actor=ops,
                note="the remaining steps do not apply",
            )
            detected = now - timedelta(days=7 * week + 2 + n, hours=3)
            Incident.objects.filter(pk=incident.pk).update(
                detected_at=detected,
                opened_at=detected + timedelta(minutes=2),
                acknowledged_at=detected + timedelta(minutes=2 + ack_min),
                mitigated_at=None,
                resolved_at=detected + timedelta(minutes=fix_min),
            )


def campaign_started(*, name: str, targets: int, throttle_per_minute: int):
    """A new campaign with `targets` targets, started by ops through the campaigns service
    (the worker dispatches it to the simulator at `throttle_per_minute`)."""
    from campaigns.models import Campaign, Target
    from campaigns.services import campaign_start

    campaign = Campaign.objects.create(
        name=name,
        template="fuel_promo_v2",
        template_variables={"discount": "10%"},
        throttle_per_minute=throttle_per_minute,
        time_zone="Africa/Kigali",
    )
    Target.objects.bulk_create(
        [Target(campaign=campaign, phone=f"+25078{campaign.pk:03d}{i:04d}") for i in range(targets)]
    )
    return campaign_start(campaign_id=campaign.pk, actor=person("olga-ops"))


def sent_count(campaign) -> int:
    return campaign.targets.filter(status="sent").count()


ROTATION_SECRET_ID = "prod/easymo/supabase/service-role"


def leak_world(*, aws_env: dict) -> dict:
    """The world before a rotation (as tests/rotation/rotation_support.py sets it up): the
    leaked key and its replacement exist in the simulated Supabase project, Secrets Manager
    holds the replacement as current, Vercel and the Edge Function secrets still hold the
    leaked key, and the production project is in the registry."""
    import boto3

    from integrations.clients.supabase_management import SupabaseManagementClient
    from integrations.clients.vercel import VercelClient
    from rotation.models import SupabaseProject

    mgmt = SupabaseManagementClient(project_ref="easymoprodprojectref")
    leaked = mgmt.api_key_create(name="service_role_2025")
    new = mgmt.api_key_create(name="service_role_2026")
    secrets = boto3.client(
        "secretsmanager",
        endpoint_url=aws_env["AWS_SECRETS_ENDPOINT_URL"],
        region_name=aws_env["AWS_REGION"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    secrets.put_secret_value(SecretId=ROTATION_SECRET_ID, SecretString=leaked["api_key"])
    secrets.put_secret_value(SecretId=ROTATION_SECRET_ID, SecretString=new["api_key"])
    VercelClient(project="station-web").env_upsert(
        key="SUPABASE_SERVICE_ROLE_KEY", value=leaked["api_key"], targets=["production", "preview"]
    )
    mgmt.secrets_set({"SERVICE_ROLE_KEY": leaked["api_key"]})
    project, _ = SupabaseProject.objects.get_or_create(
        environment="production",
        defaults=dict(
            project_ref="easymoprodprojectref",
            primary_owner="Grace Owner",
            owner_email="grace@example.com",
            owner_slack="U0GRACE",
            service_role_secret_id=ROTATION_SECRET_ID,
            vercel_project="station-web",
            vercel_env_vars=["SUPABASE_SERVICE_ROLE_KEY"],
            vercel_targets=["production", "preview"],
            function_secret_names=["SERVICE_ROLE_KEY"],
            edge_functions=["voucher-png", "send-whatsapp"],
        ),
    )
    return {"project": project, "leaked": leaked, "new": new}


def leak_incident(*, dedup_key: str):
    from incidents.services import incident_open

    incident, _ = incident_open(
        runbook_key="credential_leak",
        actor=person("sam-support"),
        dedup_key=dedup_key,
        title="Service-role key pasted in a public gist",
    )
    return incident


def incidents_resolve(*, runbook_key: str) -> None:
    """Resolve the open incidents of a runbook, as an admin would once the cause is fixed
    (a detector may have opened one while an earlier flow had an integration red)."""
    from incidents.models import OPEN_STATUSES, Incident
    from incidents.services import incident_status_set

    admin = person("ada-admin")
    for incident in Incident.objects.filter(runbook_key=runbook_key, status__in=OPEN_STATUSES):
        incident_status_set(
            incident=incident,
            status="resolved",
            actor=admin,
            note="the remaining steps do not apply",
        )
