"""What a person may do with a step, and for every button they do not get: why, and the way
forward. One rule for the incident page (where Run/Skip would be) and the front page's
"next step" (one the person can do). Reads only; the services that act check again."""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from incidents.engine.registry import action_get, step_permission
from incidents.models import Approval, IncidentStep
from staff.roles import ROLES

APPROVE_PERMISSION = "incidents.approve_risky_step"
# What a person can do to move a step on (the front page's "next step" is one of these).
MOVES = ("run", "request_approval", "done", "skip", "check")


@dataclass(frozen=True)
class Why:
    """A button the person does not get: which, why, and what to do instead."""

    button: str  # as the page labels it: "Run", "Skip", "Approve", …
    reason: str  # "needs ops or admin", "waiting for approval #4 requested by ada"
    way: str  # "ask in #ops …", "an admin other than ada approves it on this page"
    link: str = ""  # the incident page, to paste into the ask


@dataclass(frozen=True)
class StepActions:
    allowed: tuple[str, ...]
    missing: tuple[Why, ...]

    def can_move(self) -> bool:
        return any(a in MOVES for a in self.allowed)

    @property
    def first_reason(self) -> str:
        return f"{self.missing[0].reason}: {self.missing[0].way}" if self.missing else ""


def _roles_with(permission: str) -> list[str]:
    return [r for r, perms in ROLES.items() if permission in perms and r != "auditor"]


def _needs(button: str, permission: str, step: IncidentStep, link: str) -> Why:
    roles = _roles_with(permission) or ["admin"]
    channel = settings.SLACK_OPS_CHANNEL
    return Why(
        button=button,
        reason=f"needs {' or '.join(roles)}",
        way=f"ask in {channel} for someone with the {roles[0]} role to do step {step.number}, "
        "with the link to this incident",
        link=link,
    )


def _approval_why(approval: Approval, user: Any, button: str) -> Why:
    when = timezone.localtime(approval.expires_at).strftime("%H:%M")
    reason = (
        f"waiting for approval #{approval.pk} requested by {approval.requested_by_name} "
        f"(expires {when})"
    )
    if approval.requested_by_id == user.pk:
        way = "another admin must approve it: the requester never approves their own request"
    elif user.has_perm(APPROVE_PERMISSION):
        way = "approve or deny it below"
    else:
        way = f"an admin other than {approval.requested_by_name} approves it on this page"
    return Why(button=button, reason=reason, way=way)


def step_actions(
    *,
    step: IncidentStep,
    user: Any,
    pending_approval: Approval | None = None,
    link: str = "",
) -> StepActions:
    """The buttons `user` gets on `step` now, and a Why for each one they do not.

    `pending_approval` is the step's undecided approval, if any (the page has read it)."""
    incident = step.incident
    if not incident.is_open:
        why = Why("Run/Skip", f"the incident is {incident.status}", "reopen it to work on it")
        return StepActions(allowed=(), missing=(why,))
    allowed: list[str] = []
    missing: list[Why] = []
    permission = step_permission(kind=step.kind, action_key=step.action_key)
    may = user.has_perm(permission)
    action = action_get(step.action_key) if step.kind == IncidentStep.Kind.ACTION else None
    if may:
        if action:  # with an approval pending, a new request with other parameters supersedes it
            allowed += ["request_approval" if action.risky else "run", "dry_run"]
        elif step.kind == IncidentStep.Kind.GATE:
            allowed.append("check")
        elif not step.is_finished:
            allowed.append("done")
        if not step.is_finished:
            allowed.append("skip")
    elif action or not step.is_finished:  # skipping needs the same permission: one Why
        buttons = {
            IncidentStep.Kind.ACTION: "Request approval/Skip"
            if action and action.risky
            else "Run/Skip",
            IncidentStep.Kind.GATE: "Check now/Skip",
            IncidentStep.Kind.CHECKLIST: "Done/Skip",
        }[step.kind]
        missing.append(_needs(buttons, permission, step, link))
    if pending_approval is not None:
        if user.has_perm(APPROVE_PERMISSION) and pending_approval.requested_by_id != user.pk:
            allowed += ["approve", "deny"]
        else:
            missing.append(_approval_why(pending_approval, user, "Approve"))
    return StepActions(allowed=tuple(dict.fromkeys(allowed)), missing=tuple(missing))


def next_step_for(*, steps: list[IncidentStep], user: Any) -> tuple[IncidentStep | None, str]:
    """Of an incident's unfinished steps (in runbook order), the first one `user` can move
    on, else the first one with why they cannot. (Front page: no extra query; an approval
    or a run under way shows as the step's status.)"""
    for step in steps:
        if step.status in (IncidentStep.Status.AWAITING_APPROVAL, IncidentStep.Status.RUNNING):
            continue
        if step_actions(step=step, user=user).can_move():
            return step, ""
    if not steps:
        return None, ""
    first = steps[0]
    return first, step_actions(step=first, user=user).first_reason
