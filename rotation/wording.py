"""A rotation in plain words, for the people deciding on it and watching it: what approving
will do (the approval panel), where a rotation stands (the incident page's notice with the
saga's steps by name and to the second), and the leaked keys still active (the front page).

Built from the same registry rows as the dry run's plan (rotation/plan.py), without its
network read: these are rendered on every refresh of a page.
"""

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from incidents.engine.registry import Notice
from rotation.models import RotationRun, RotationStep, RotationTarget

_S = RotationRun.Status
STILL_ACTIVE = (_S.ROLLED_BACK, _S.FAILED)


def _names(values) -> str:
    values = list(values)
    if len(values) <= 1:
        return "".join(values)
    return ", ".join(values[:-1]) + " and " + values[-1]


def _live_sessions() -> int:
    return Session.objects.filter(expire_date__gt=timezone.now()).count()


def rotation_consequences(params: dict) -> list[str]:
    """What approving the rotation these parameters name will do, in plain sentences."""
    run = RotationRun.objects.select_related("project").filter(pk=params.get("rotation_id")).first()
    if run is None:
        return [f"Rotation #{params.get('rotation_id')} does not exist: the run would refuse."]
    project = run.project
    ref = project.project_ref
    said = []
    if run.leaked_kind == RotationRun.KeyKind.SECRET:
        said.append(
            f"Revokes the leaked key {run.leaked_fingerprint} (id {run.leaked_key_id}) of the "
            f"{project.environment} Supabase project {ref}. This cannot be undone."
        )
    else:
        said.append(
            f"Disables every legacy JWT key of the {project.environment} Supabase project "
            f"{ref}, the leaked one ({run.leaked_fingerprint}) included. This cannot be undone."
        )
    if project.vercel_env_vars and project.vercel_project:
        said.append(
            f"Changes {_names(project.vercel_env_vars)} in the Vercel project "
            f"{project.vercel_project} ({_names(project.vercel_targets or ['production'])}) to "
            f"the new key and redeploys {project.vercel_project}'s production deployment."
        )
    if project.function_secret_names:
        used_by = (
            f"; the Edge Functions {_names(project.edge_functions)} use it"
            if project.edge_functions
            else ""
        )
        said.append(
            f"Changes the Edge Function secret(s) {_names(project.function_secret_names)} of "
            f"project {ref} to the new key{used_by}."
        )
    said.append(
        f"Signs everyone out: all {_live_sessions()} staff session(s) end, including "
        "yours as the approver. You will sign in again and see why."
    )
    said.append(
        f"Tells {project.primary_owner} first and posts a summary to "
        f"{settings.SLACK_OPS_CHANNEL} at the end."
    )
    said.append(
        "If Vercel, the Edge Function secrets or the new key's check fails, the previous "
        "values are put back and nothing is revoked: the leaked key then stays active."
    )
    return said


def _later_success() -> Exists:
    """A later rotation of the same leaked key that succeeded (it revoked the key)."""
    return Exists(
        RotationRun.objects.filter(
            leaked_fingerprint=OuterRef("leaked_fingerprint"),
            status=_S.SUCCEEDED,
            pk__gt=OuterRef("pk"),
        )
    )


# Rolled back or failed before the revoke — or cancelled after that: cancelling a stopped
# rotation revokes nothing, so it must not silence the alarm.
_STOPPED = Q(status__in=STILL_ACTIVE) | Q(status=_S.CANCELLED, failed_step__isnull=False)


def key_still_active(run: RotationRun) -> bool:
    """This rotation stopped before revoking the leaked key and no later one revoked it."""
    return (
        RotationRun.objects.filter(_STOPPED, pk=run.pk)
        .exclude(targets__kind=RotationTarget.Kind.SUPABASE_KEY, targets__state="revoked")
        .exclude(_later_success())
        .exists()
    )


def _next_action(run: RotationRun) -> str:
    return (
        "Next: read the failed step's reason below, fix it, then open the rotation and press "
        "Resume (a second admin approves again), or cancel it with a reason to start over."
    )


def rotation_notice(run: RotationRun) -> Notice:
    """Where one rotation stands, with its saga's steps by name and their exact times."""
    steps = [
        (step.number, step.name, step.status, step.started_at, step.finished_at, step.detail)
        for step in run.steps.order_by("number")
    ]
    url = reverse("admin:rotation_rotationrun_change", args=[run.pk])
    env = run.project.environment
    if key_still_active(run):
        failed = RotationStep.NAMES.get(RotationStep.KEYS[(run.failed_step or 1) - 1], "")
        how = {_S.ROLLED_BACK: "rolled back", _S.FAILED: "failed"}.get(
            run.status, "was cancelled after it stopped"
        )
        return Notice(
            tone="red",
            headline=f"The leaked key is still active: rotation #{run.pk} of the {env} key "
            f"{how} at step {run.failed_step} ({failed}).",
            lines=[run.error, _next_action(run)] if run.error else [_next_action(run)],
            link_url=url,
            link_label=f"Open rotation #{run.pk} to resume or cancel it",
            steps=steps,
        )
    if run.status == _S.FAILED:
        return Notice(
            tone="red",
            headline=f"Rotation #{run.pk} of the {env} key stopped at step {run.failed_step}: "
            "the leaked key is revoked, the remaining steps are not done.",
            lines=[run.error, _next_action(run)],
            link_url=url,
            link_label=f"Open rotation #{run.pk} to resume it",
            steps=steps,
        )
    headline = {
        _S.PREPARED: f"Rotation #{run.pk} of the {env} key is prepared: it runs once a second "
        "admin approves it.",
        _S.RUNNING: f"Rotation #{run.pk} of the {env} key is running.",
        _S.SUCCEEDED: f"Rotation #{run.pk} of the {env} key succeeded: the leaked key is revoked.",
        _S.CANCELLED: f"Rotation #{run.pk} of the {env} key was cancelled.",
    }[run.status]
    tone = {_S.RUNNING: "amber", _S.SUCCEEDED: "green"}.get(run.status, "grey")
    return Notice(tone=tone, headline=headline, link_url=url, link_label="Open", steps=steps)


def incident_rotation_notices(incident) -> list[Notice]:
    """The incident's latest rotation (only Credential Leak incidents have any)."""
    if incident.runbook_key != "credential_leak":
        return []
    run = incident.rotations.select_related("project").order_by("-id").first()
    return [rotation_notice(run)] if run is not None else []


def rotations_key_still_active(*, limit: int = 5) -> list[dict]:
    """For the front page: rotations that rolled back or failed before the leaked key was
    revoked (two queries)."""
    runs = list(
        RotationRun.objects.filter(_STOPPED)
        .exclude(targets__kind=RotationTarget.Kind.SUPABASE_KEY, targets__state="revoked")
        .exclude(_later_success())
        .select_related("project")
        .order_by("-id")[:limit]
    )
    return [
        {
            "run": run,
            "incident_id": run.incident_id,
            "url": reverse("admin:incidents_incident_work", args=[run.incident_id]),
            "rotation_url": reverse("admin:rotation_rotationrun_change", args=[run.pk]),
            "failed_at": run.finished_at or timezone.now(),
        }
        for run in runs
    ]
