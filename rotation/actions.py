"""Credential Leak runbook actions, registered with the incidents engine when
RotationConfig.ready() imports this module."""

from django.core.exceptions import ValidationError

from incidents.engine.params import Param
from incidents.engine.registry import (
    ActionContext,
    ActionError,
    PageLink,
    register,
    register_notices,
)
from integrations.errors import IntegrationError
from rotation.context import StepFailed, secrets
from rotation.keys import key_fingerprint
from rotation.models import RotationRun, SupabaseProject
from rotation.plan import rotation_bound, rotation_plan, rotation_progress
from rotation.saga import rotation_execute
from rotation.steps import owner_notify
from rotation.wording import incident_rotation_notices, rotation_consequences

# The incident page says where the incident's rotation stands (and loudly when the leaked
# key is still active after a rollback or failure).
register_notices(incident_rotation_notices)

PROJECT = Param(
    "project",
    "Supabase project (production or staging)",
    default="production",
    help="The environment in the Supabase projects registry.",
)


def _project(ctx: ActionContext) -> SupabaseProject:
    project = SupabaseProject.objects.filter(environment=ctx.params["project"]).first()
    if project is None:
        raise ActionError(f"No Supabase project {ctx.params['project']!r} in the registry.")
    return project


@register(
    "supabase_owner_notify",
    "Notify the Supabase project's primary owner",
    tier="operational",
    params=(PROJECT,),
)
def supabase_owner_notify(ctx: ActionContext) -> dict:
    project = _project(ctx)
    text = (
        f"OpsPortal incident #{ctx.incident.pk}: a Supabase {project.environment} "
        f"service-role key ({project.project_ref}) may have leaked. On call: "
        f"{ctx.actor_name}."
    )
    if ctx.dry_run:
        ctx.log(
            f"would notify {project.primary_owner} via Slack "
            f"{project.owner_slack or '(none)'} and e-mail {project.owner_email or '(none)'}"
        )
        return {}
    try:
        reached = owner_notify(project, text=text)
    except StepFailed as exc:
        raise ActionError(str(exc)) from None
    ctx.log(f"notified {project.primary_owner} via {', '.join(reached)}")
    return {"owner": project.primary_owner, "channels": reached}


@register(
    "secret_replacement_fetch",
    "Check the replacement key in AWS Secrets Manager (fingerprint only)",
    tier="operational",
    safe_to_retry=True,
    params=(
        PROJECT,
        Param(
            "leaked_key_fingerprint",
            "Leaked key fingerprint (from the rotation form)",
            required=False,
        ),
    ),
)
def secret_replacement_fetch(ctx: ActionContext) -> dict:
    project = _project(ctx)
    secret_id = project.service_role_secret_id
    if ctx.dry_run:
        ctx.log(f"would read {secret_id} (AWSCURRENT) and show its fingerprint only")
        return {}
    try:
        current = key_fingerprint(secrets().get_current(secret_id))
    except IntegrationError as exc:
        raise ActionError(str(exc)) from None
    ctx.log(f"{secret_id} AWSCURRENT: {current}")
    leaked = ctx.params.get("leaked_key_fingerprint", "")
    if leaked and leaked == current:
        raise ActionError("AWSCURRENT is the leaked key: store a new key in Secrets Manager.")
    return {"current_fingerprint": current}


@register(
    "supabase_key_rotate",
    "Rotate the Supabase service-role key (Vercel, Edge Functions, revoke, sessions)",
    tier="risky",
    consequences=rotation_consequences,
    timeout_seconds=600,
    plan=rotation_bound,
    progress=rotation_progress,
    page_link=PageLink(
        "admin:rotation_rotationrun_start",
        "Prepare the key rotation",
        "enter the leaked key once; its rotation page then has dry run, resume and cancel",
    ),
    params=(
        Param(
            "rotation_id",
            "Rotation",
            kind="int",
            help="Prepared with the leaked key on the incident's rotation form.",
        ),
        PROJECT,
        Param("leaked_key_fingerprint", "Leaked key fingerprint"),
    ),
)
def supabase_key_rotate(ctx: ActionContext) -> dict:
    run = RotationRun.objects.select_related("project").filter(pk=ctx.params["rotation_id"]).first()
    if (
        run is None
        or run.incident_id != ctx.incident.pk
        or run.project.environment != ctx.params["project"]
        or run.leaked_fingerprint != ctx.params["leaked_key_fingerprint"]
    ):
        raise ActionError("The rotation does not match this incident, project and leaked key.")
    if ctx.dry_run:
        for line in rotation_plan(run):
            ctx.log(line)
        return {"rotation_id": run.pk}
    try:
        run = rotation_execute(run_id=run.pk, actor=ctx.actor, log=ctx.log, incident_step=ctx.step)
    except ValidationError as exc:  # already running, finished or cancelled
        raise ActionError(" ".join(exc.messages)) from None
    if run.status != RotationRun.Status.SUCCEEDED:
        raise ActionError(f"rotation #{run.pk} {run.status} at step {run.failed_step}: {run.error}")
    return {"rotation_id": run.pk, "status": run.status, "new_key_fingerprint": run.new_fingerprint}
