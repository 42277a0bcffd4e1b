"""What a successful rotation ticks off the Credential Leak runbook: each saga step that did
a runbook item marks that item done, with its evidence and a link to the run (so nobody
revokes, signs everyone out or posts the summary a second time)."""

from django.urls import reverse

from incidents.services import Performed, incident_steps_performed
from rotation.models import RotationRun, RotationStep

# saga step key → (runbook step key, what its evidence says happened)
RUNBOOK_ITEMS = {
    "notify_owner": ("notify_owner", "primary owner notified"),
    "fetch_replacement": ("fetch_key", "replacement key fetched from Secrets Manager"),
    "revoke_leaked_key": ("revoke_key", "key revoked"),
    "invalidate_sessions": ("invalidate_sessions", "admin sessions invalidated"),
    "confirm_old_key_refused": ("confirm", "old key answered 401"),
    "post_summary": ("summary", "summary with the rotation timestamp posted"),
}


def _performed(step: RotationStep) -> Performed | None:
    key, what = RUNBOOK_ITEMS.get(step.key, ("", ""))
    if not key or step.status != RotationStep.Status.DONE:
        return None
    if key == "confirm" and not (step.data or {}).get("old_refused"):
        return None  # the leaked key could not be tried here: a person confirms it
    at = f"{step.finished_at:%Y-%m-%d %H:%M:%S} UTC" if step.finished_at else "?"
    return Performed(
        key=key,
        evidence=f"{what} at {at} ({step.detail})",
        data={"rotation_step": step.number, **(step.data or {})},
    )


def rotation_checklist_complete(run: RotationRun, *, actor) -> list[str]:
    """Mark the runbook items the succeeded run performed; returns their step numbers."""
    performed = [p for step in run.steps.order_by("number") if (p := _performed(step))]
    return incident_steps_performed(
        incident=run.incident,
        by=f"rotation #{run.pk}",
        link=reverse("admin:rotation_rotationrun_change", args=[run.pk]),
        performed=performed,
        actor=actor,
    )
