"""Staff JSON API for incidents. Authentication is done by the middleware (401 before us);
each view checks its permission and calls the same services as the admin page."""

import json

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET, require_POST

from incidents.models import Approval, Incident, StepRun
from incidents.services import approval_decide, step_run_request


def _error(code: str, status: int, detail: str = "") -> JsonResponse:
    body = {"error": code}
    if detail:
        body["detail"] = detail
    return JsonResponse(body, status=status)


def _body(request) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ValidationError("The body must be a JSON object.") from None
    if not isinstance(data, dict):
        raise ValidationError("The body must be a JSON object.")
    return data


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
        "status": approval.status,
        "action": approval.action_key,
        "params": approval.params,
        "params_hash": approval.params_hash,
        "requested_by": approval.requested_by_name,
        "expires_at": approval.expires_at,
        "decided_by": approval.decided_by_name or None,
        "comment": approval.comment,
    }


def _guarded(view):
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as exc:
            return _error("forbidden", 403, str(exc))
        except ValidationError as exc:
            return _error("invalid_request", 400, " ".join(exc.messages))

    return wrapper


@require_GET
@_guarded
def incident_detail(request, pk: int):
    if not request.user.has_perm("incidents.view_incident"):
        raise PermissionDenied
    incident = get_object_or_404(Incident, pk=pk)
    steps = [
        {
            "key": s.key,
            "number": s.number,
            "phase": s.phase,
            "kind": s.kind,
            "text": s.text,
            "status": s.status,
            "action": s.action_key or None,
            "due_at": s.due_at,
        }
        for s in incident.steps.all()
    ]
    return JsonResponse(
        {
            "id": incident.pk,
            "title": incident.title,
            "runbook": incident.runbook_key,
            "status": incident.status,
            "severity": incident.severity,
            "opened_at": incident.opened_at,
            "steps": steps,
        }
    )


@require_POST
@_guarded
def step_run(request, pk: int, step_key: str):
    """POST {"params": {...}, "dry_run": false} → 202 run, or 202 approval for a risky step."""
    incident = get_object_or_404(Incident, pk=pk)
    step = get_object_or_404(incident.steps, key=step_key)
    body = _body(request)
    params = body.get("params", {})
    if not isinstance(params, dict):
        raise ValidationError("params must be an object.")
    result = step_run_request(
        step=step, actor=request.user, params=params, dry_run=bool(body.get("dry_run", False))
    )
    if isinstance(result, Approval):
        return JsonResponse({"approval": _approval_json(result)}, status=202)
    return JsonResponse({"run": _run_json(result)}, status=202)


@require_GET
@_guarded
def run_detail(request, run_id: int):
    if not request.user.has_perm("incidents.view_incidentstep"):
        raise PermissionDenied
    return JsonResponse({"run": _run_json(get_object_or_404(StepRun, pk=run_id))})


@require_POST
@_guarded
def approval_decision(request, approval_id: int):
    """POST {"decision": "approve"|"deny", "comment": "...", "params_hash": "..."}."""
    approval = get_object_or_404(Approval, pk=approval_id)
    body = _body(request)
    decision = body.get("decision")
    if decision not in ("approve", "deny"):
        raise ValidationError('decision must be "approve" or "deny".')
    seen = body.get("params_hash")
    if seen is not None and not isinstance(seen, str):
        raise ValidationError("params_hash must be a string.")
    approval = approval_decide(
        approval=approval,
        actor=request.user,
        approve=decision == "approve",
        comment=str(body.get("comment", ""))[:2000],
        params_hash_seen=seen,
    )
    return JsonResponse({"approval": _approval_json(approval)})
