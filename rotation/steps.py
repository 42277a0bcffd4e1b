"""What each rotation step does (steps 3 and 4, the targets, are in steps_targets.py).
Every step is idempotent and checks its own result.

A step returns (detail, data): one line for the operator and JSON facts for the record
(fingerprints, ids, counts — never a key). It raises StepFailed or an IntegrationError.
"""

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.mail import send_mail
from django.utils import timezone

import audit
from incidents.services import incident_step_done_by_person
from integrations.clients.slack import SlackClient
from integrations.clients.supabase_admin import SupabaseAdminProbe
from integrations.errors import IntegrationError, Rejected
from rotation.context import Saga, StepFailed, management, secrets
from rotation.keys import LEGACY_NAME, key_fingerprint, key_kind
from rotation.models import RotationRun, RotationTarget
from staff.services import SessionsNotInDatabase, staff_sessions_invalidate

Kind = RotationTarget.Kind


def owner_notify(project, *, text: str) -> list[str]:
    """Slack DM and e-mail to the project's primary owner; the channels that worked.
    Raises StepFailed when none did."""
    reached, problems = [], []
    if project.owner_slack:
        try:
            SlackClient().post_message(channel=project.owner_slack, text=text)
            reached.append(f"Slack {project.owner_slack}")
        except IntegrationError as exc:
            problems.append(str(exc))
    if project.owner_email:
        try:
            send_mail(
                subject=f"[OpsPortal] Supabase {project.environment}: credential leak",
                message=text,
                from_email=None,
                recipient_list=[project.owner_email],
            )
            reached.append(f"e-mail {project.owner_email}")
        except Exception as exc:  # SMTP errors come in many classes
            problems.append(f"e-mail: {type(exc).__name__}")
    if not reached:
        raise StepFailed(
            f"Could not reach the primary owner {project.primary_owner}: "
            + ("; ".join(problems) or "the registry has no Slack handle or e-mail")
        )
    return reached


# 1 ------------------------------------------------------------------------------------------
def notify_owner(saga: Saga, step) -> tuple[str, dict]:
    run, project = saga.run, saga.project
    text = (
        f"Rotation of the Supabase {project.environment} service-role key ({project.project_ref}) "
        f"is starting for OpsPortal incident #{run.incident_id}. Leaked key: "
        f"{run.leaked_fingerprint}. Started by {run.prepared_by_name}."
    )
    reached = owner_notify(project, text=text)
    return f"notified {project.primary_owner} via {', '.join(reached)}", {"channels": reached}


# 2 ------------------------------------------------------------------------------------------
def fetch_replacement(saga: Saga, step) -> tuple[str, dict]:
    run, project = saga.run, saga.project
    value = secrets().get_current(project.service_role_secret_id)
    new_fp = key_fingerprint(value)
    if new_fp == run.leaked_fingerprint:
        raise StepFailed(
            f"AWSCURRENT of {project.service_role_secret_id} is the leaked key ({new_fp}): "
            "store a new key in Secrets Manager first, then resume."
        )
    kind = key_kind(value)
    if not kind:
        raise StepFailed("AWSCURRENT does not look like a service-role key.")
    if run.leaked_kind == RotationRun.KeyKind.LEGACY and kind == "legacy":
        raise StepFailed(
            "The replacement is a legacy JWT key, but revoking the leak disables all legacy "
            "keys: store a new secret key (sb_secret_…) in Secrets Manager, then resume."
        )
    run.new_fingerprint = new_fp
    run.save(update_fields=["new_fingerprint"])
    saga.new_key_seen(value)
    saga.target(
        Kind.SECRETS_MANAGER,
        f"{project.service_role_secret_id} (AWSCURRENT)",
        fingerprint=new_fp,
        state="new",
    )
    restorable = saga.leaked_key_from_secrets_manager() is not None
    return (
        f"replacement {new_fp} from {project.service_role_secret_id} (differs from the leaked "
        f"{run.leaked_fingerprint}); leaked key {'is' if restorable else 'is NOT'} AWSPREVIOUS",
        {"new_key_fingerprint": new_fp, "kind": kind, "leaked_is_awsprevious": restorable},
    )


# 5 ------------------------------------------------------------------------------------------
def verify_new_key(saga: Saga, step) -> tuple[str, dict]:
    probe = SupabaseAdminProbe(project_ref=saga.project.project_ref)
    if not probe.key_accepted(saga.new_key()):
        raise StepFailed(f"The project refuses the new key {saga.run.new_fingerprint}.")
    return f"the project accepts the new key {saga.run.new_fingerprint}", {"accepted": True}


# 6 ------------------------------------------------------------------------------------------
def revoke_leaked_key(saga: Saga, step) -> tuple[str, dict]:
    run, client = saga.run, management(saga)
    if run.leaked_kind == RotationRun.KeyKind.SECRET:
        try:
            client.api_key_revoke(
                run.leaked_key_id, reason=f"leaked; OpsPortal incident {run.incident_id}"
            )
            detail = f"API key {run.leaked_key_id} revoked (was_compromised=true)"
        except Rejected as exc:
            if exc.status != 404:
                raise
            detail = f"API key {run.leaked_key_id} was already revoked"
    else:
        client.legacy_keys_disable()
        detail = "legacy JWT keys disabled"
    now = timezone.now()
    run.rotated_at = run.rotated_at or now
    run.save(update_fields=["rotated_at"])
    saga.target(
        Kind.SUPABASE_KEY,
        run.leaked_key_id or LEGACY_NAME,
        fingerprint=run.leaked_fingerprint,
        state="revoked",
    )
    return detail, {"rotated_at": run.rotated_at.isoformat()}


# 7 ------------------------------------------------------------------------------------------
def invalidate_sessions(saga: Saga, step) -> tuple[str, dict]:
    """The runbook's 3.3 and this step are one action: whichever runs first signs everyone
    out, the other records that it was done."""
    run = saga.run
    # A sign-out from before the revoke leaves the sessions opened since: it does not count.
    done = incident_step_done_by_person(
        incident_id=run.incident_id, key="invalidate_sessions", since=run.rotated_at
    )
    if done is not None:
        return (
            f"sessions already invalidated by incident step {done.number} at "
            f"{done.completed_at:%H:%M:%S} UTC ({done.completed_by_name}); not signed out again",
            {"sessions_deleted": 0, "already_done_by_step": done.number},
        )
    before = list(Session.objects.values_list("session_key", flat=True))
    try:
        result = staff_sessions_invalidate(
            actor=saga.actor,
            revoke_api_tokens=False,
            reason=f"rotation #{run.pk} of the {saga.project.environment} service-role key",
            incident_id=run.incident_id,
            notice=f"the key rotation for incident #{run.incident_id}",
        )
    except SessionsNotInDatabase as exc:
        raise StepFailed(str(exc)) from None
    if Session.objects.filter(session_key__in=before).exists():
        raise StepFailed("Sessions from before the rotation still exist.")
    deleted = result["sessions_deleted"]
    return f"deleted {deleted} session(s): everyone, including the operator, signs in again", {
        "sessions_deleted": deleted
    }


# 8 ------------------------------------------------------------------------------------------
def confirm_old_key_refused(saga: Saga, step) -> tuple[str, dict]:
    probe = SupabaseAdminProbe(project_ref=saga.project.project_ref)
    if not probe.key_accepted(saga.new_key()):
        raise StepFailed(f"The project refuses the new key {saga.run.new_fingerprint}.")
    old = saga.leaked_key_from_secrets_manager()
    if old is None:
        return (
            "new key accepted; the leaked key is not Secrets Manager's AWSPREVIOUS, so it "
            "could not be tried here: confirm by hand that it is refused",
            {"new_accepted": True, "old_checked": False},
        )
    if probe.key_accepted(old):
        raise StepFailed(f"The leaked key {saga.run.leaked_fingerprint} is still accepted.")
    return (
        f"leaked key {saga.run.leaked_fingerprint} refused (401), new key "
        f"{saga.run.new_fingerprint} accepted",
        {"new_accepted": True, "old_checked": True, "old_refused": True},
    )


# 9 ------------------------------------------------------------------------------------------
def post_summary(saga: Saga, step) -> tuple[str, dict]:
    run, project = saga.run, saga.project
    confirm = run.steps.get(number=8).data or {}
    rotated = run.rotated_at or timezone.now()
    text = (
        f"Supabase {project.environment} service-role key rotated at "
        f"{rotated:%Y-%m-%d %H:%M:%S} UTC (OpsPortal incident #{run.incident_id}, rotation "
        f"#{run.pk}). Leaked key {run.leaked_fingerprint} revoked; new key "
        f"{run.new_fingerprint} in Vercel ({', '.join(project.vercel_env_vars) or '—'}) and "
        f"Edge Function secrets ({', '.join(project.function_secret_names) or '—'}). "
        f"Staff sessions invalidated. Old key refused: "
        f"{'confirmed' if confirm.get('old_refused') else 'NOT checked, confirm by hand'}."
    )
    ts = SlackClient().post_message(text=text)
    audit.record(
        action="rotation.summary_posted",
        actor=saga.actor,
        target=run,
        incident_id=run.incident_id,
        data={
            "rotation_id": run.pk,
            "rotated_at": rotated.isoformat(),
            "slack_ts": ts,
            "text": text,
        },
    )
    return f"summary posted to {settings.SLACK_OPS_CHANNEL}", {"slack_ts": ts}
