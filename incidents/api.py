"""Staff API for incidents: read an incident, run a step, read a run, decide an approval.

Each endpoint checks its read permission or leaves the rule to the service it calls
(`step_run_request`, `approval_decide`: the same services as the admin page), so a
refusal here is the refusal there. Errors are the staff API's (`staff.api_errors`).
"""

from datetime import datetime
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from pydantic import StrictBool, field_validator

from incidents.models import Approval, Incident, StepRun
from incidents.services import approval_decide, incident_step_complete, step_run_request
from staff.api_errors import errors

router = Router(tags=["incidents"])

COMMENT_MAX = 2000


class Step(Schema):
    key: str
    number: str
    phase: str
    kind: str
    text: str
    status: str
    action: str | None
    due_at: datetime | None


class IncidentOut(Schema):
    id: int
    title: str
    runbook: str
    status: str
    severity: str
    opened_at: datetime
    steps: list[Step]


class Run(Schema):
    id: int
    step: str
    action: str
    status: str
    dry_run: bool
    params: dict[str, Any]
    actor: str
    approval_id: int | None
    log: list[str]
    result: Any
    error: str
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ApprovalOut(Schema):
    id: int
    kind: str = Field(description="run: approved, the run is queued; skip: the step is skipped")
    status: str
    action: str
    params: dict[str, Any]
    params_hash: str
    requested_by: str
    expires_at: datetime
    decided_by: str | None
    comment: str


class RunEnvelope(Schema):
    run: Run


class ApprovalEnvelope(Schema):
    approval: ApprovalOut


class StepRunIn(Schema):
    params: dict[str, Any] = Field(default_factory=dict, description="the step's parameters")
    # Strict: "false" or "no" must not quietly mean a real run (or a dry one).
    dry_run: StrictBool = False
    confirm_rerun: StrictBool = Field(
        False,
        description="after a run whose outcome is unknown (its worker was lost mid-run): "
        "the caller checked what it did and runs the step again (audited)",
    )


class StepCompleteIn(Schema):
    note: str = Field("", description="why (required to skip)", max_length=5000)
    skip: StrictBool = Field(False, description="skip the step instead of ticking it done")


class StepEnvelope(Schema):
    step: Step


class DecisionIn(Schema):
    decision: Literal["approve", "deny"]
    comment: str = Field("", description=f"kept up to {COMMENT_MAX} characters")
    params_hash: str | None = Field(None, description="the parameters' hash the decider saw")

    @field_validator("comment", mode="before")
    @classmethod
    def _comment_as_text(cls, value: Any) -> str:
        return "" if value is None else str(value)[:COMMENT_MAX]


def _run_json(run: StepRun) -> dict:
    return {
        "id": run.pk,
        "step": run.step.number,
        "action": run.action_key,
        "status": run.status,
        "dry_run": run.dry_run,
        "params": run.params,
        "actor": run.actor_name,
        "approval_id": run.approval_id,
        "log": run.log.splitlines(),
        "result": run.result,
        "error": run.error,
        "queued_at": run.queued_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
    }


def _approval_json(approval: Approval) -> dict:
    return {
        "id": approval.pk,
        "kind": approval.kind,
        "status": approval.status,
        "action": approval.action_key,
        "params": approval.params,
        "params_hash": approval.params_hash,
        "requested_by": approval.requested_by_name,
        "expires_at": approval.expires_at,
        "decided_by": approval.decided_by_name or None,
        "comment": approval.comment,
    }


def _step_json(step) -> dict:
    return {
        "key": step.key,
        "number": step.number,
        "phase": step.phase,
        "kind": step.kind,
        "text": step.text,
        "status": step.status,
        "action": step.action_key or None,
        "due_at": step.due_at,
    }


def _require(request, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


@router.get("/{int:incident_id}", response={200: IncidentOut, **errors(404)}, url_name="incident")
def incident_detail(request, incident_id: int):
    _require(request, "incidents.view_incident")
    incident = get_object_or_404(Incident, pk=incident_id)
    steps = [_step_json(s) for s in incident.steps.all()]
    return {
        "id": incident.pk,
        "title": incident.title,
        "runbook": incident.runbook_key,
        "status": incident.status,
        "severity": incident.severity,
        "opened_at": incident.opened_at,
        "steps": steps,
    }


@router.post(
    "/{int:incident_id}/steps/{step_key}/run",
    response={202: RunEnvelope | ApprovalEnvelope, **errors(404, 413)},
    url_name="incident-step-run",
)
def step_run(request, incident_id: int, step_key: str, payload: StepRunIn = None):
    """Run a step: 202 with the queued run, or 202 with the approval a risky step needs."""
    payload = payload or StepRunIn()
    incident = get_object_or_404(Incident, pk=incident_id)
    step = get_object_or_404(incident.steps, key=step_key)
    result = step_run_request(
        step=step,
        actor=request.user,
        params=payload.params,
        dry_run=payload.dry_run,
        confirm_rerun=payload.confirm_rerun,
    )
    if isinstance(result, Approval):
        return Status(202, {"approval": _approval_json(result)})
    return Status(202, {"run": _run_json(result)})


@router.post(
    "/{int:incident_id}/steps/{step_key}/complete",
    response={200: StepEnvelope, 202: ApprovalEnvelope, **errors(404, 413)},
    url_name="incident-step-complete",
)
def step_complete(request, incident_id: int, step_key: str, payload: StepCompleteIn):
    """Tick a checklist item done, or skip a step: the permission running it needs; a risky
    step's skip answers 202 with the approval a second person must give."""
    incident = get_object_or_404(Incident, pk=incident_id)
    step = get_object_or_404(incident.steps, key=step_key)
    result = incident_step_complete(
        step=step, actor=request.user, note=payload.note, skip=payload.skip
    )
    if isinstance(result, Approval):
        return Status(202, {"approval": _approval_json(result)})
    return {"step": _step_json(result)}


@router.get(
    "/runs/{int:run_id}", response={200: RunEnvelope, **errors(404)}, url_name="incident-run"
)
def run_detail(request, run_id: int):
    _require(request, "incidents.view_incidentstep")
    return {"run": _run_json(get_object_or_404(StepRun, pk=run_id))}


@router.post(
    "/approvals/{int:approval_id}/decide",
    response={200: ApprovalEnvelope, **errors(404, 413)},
    url_name="approval-decide",
)
def approval_decision(request, approval_id: int, payload: DecisionIn):
    """Approve or deny a risky step; the requester never approves their own request."""
    approval = get_object_or_404(Approval, pk=approval_id)
    approval = approval_decide(
        approval=approval,
        actor=request.user,
        approve=payload.decision == "approve",
        comment=payload.comment,
        params_hash_seen=payload.params_hash,
    )
    return {"approval": _approval_json(approval)}
