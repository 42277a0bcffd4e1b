"""The incident page's buttons: one entry per `op`, each calling one service.

Each handler parses its form fields, calls the service (which checks the permission) and
returns the message to show. `incident_act` looks the `op` up; nothing else is decided here.
"""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse

from incidents.admin.acts_paging import PAGING_ACTS
from incidents.engine.params import params_submitted
from incidents.gates import gate_check_now
from incidents.models import Approval, Incident, IncidentStep, StepRun
from incidents.services import (
    approval_decide,
    incident_acknowledge,
    incident_note_add,
    incident_status_set,
    incident_step_complete,
    step_rerun,
    step_run_request,
)

# (level, text) for messages.add_message; None shows nothing.
Said = tuple[int, str] | None
Act = Callable[[object, Incident], Said]


def _posted(model, request, field: str, incident: Incident):
    """The incident's row named by a posted id; a malformed id is a message, not a 500."""
    value = request.POST.get(field, "")
    if not value.isascii() or not value.isdigit():
        raise ValidationError(f"The form's {field} is not a valid id: reload the page.")
    return get_object_or_404(model, pk=int(value), incident=incident)


def _step(request, incident: Incident) -> IncidentStep:
    return _posted(IncidentStep, request, "step", incident)


def _queued(result: StepRun | Approval) -> Said:
    if isinstance(result, Approval):
        return (
            messages.WARNING,
            f"Risky step: approval #{result.pk} requested; another admin must approve it.",
        )
    return messages.SUCCESS, f"{'Dry run' if result.dry_run else 'Run'} #{result.pk} queued."


def note(request, incident: Incident) -> Said:
    incident_note_add(incident=incident, text=request.POST.get("text", ""), actor=request.user)
    return messages.SUCCESS, "Note added."


def ack(request, incident: Incident) -> Said:
    incident_acknowledge(incident=incident, actor=request.user)
    return None


def status(request, incident: Incident) -> Said:
    post = request.POST
    incident_status_set(
        incident=incident,
        status=post.get("status", ""),
        actor=request.user,
        note=post.get("note", ""),
    )
    return messages.SUCCESS, f"Incident is now {post.get('status')}."


def _complete(*, skip: bool) -> Act:
    def act(request, incident: Incident) -> Said:
        step = _step(request, incident)
        note = request.POST.get("note", "")
        result = incident_step_complete(step=step, actor=request.user, note=note, skip=skip)
        if isinstance(result, Approval):
            return (
                messages.WARNING,
                f"Skipping a risky step: approval #{result.pk} requested; another admin must "
                "approve it.",
            )
        return None

    return act


def _confirmed(request) -> bool:
    """The "I checked: run again" box, after a run whose outcome is unknown."""
    return request.POST.get("confirm_rerun") in ("yes", "on", "1", "true")


def _run(*, dry_run: bool) -> Act:
    def act(request, incident: Incident) -> Said:
        step = _step(request, incident)
        params = params_submitted(request.POST)
        return _queued(
            step_run_request(
                step=step,
                actor=request.user,
                params=params,
                dry_run=dry_run,
                confirm_rerun=_confirmed(request),
            )
        )

    return act


def rerun(request, incident: Incident) -> Said:
    run = _posted(StepRun, request, "run", incident)
    return _queued(step_rerun(run=run, actor=request.user, confirm_rerun=_confirmed(request)))


def _decide(*, approve: bool) -> Act:
    def act(request, incident: Incident) -> Said:
        post = request.POST
        approval = _posted(Approval, request, "approval", incident)
        approval_decide(
            approval=approval,
            actor=request.user,
            approve=approve,
            comment=post.get("comment", ""),
            params_hash_seen=post.get("params_hash", ""),
        )
        return messages.SUCCESS, f"Request {'approved' if approve else 'denied'}."

    return act


def check(request, incident: Incident) -> Said:
    gate = gate_check_now(step=_step(request, incident), actor=request.user)
    return messages.INFO, f"Gate {gate.number}: {gate.status} — {gate.last_check_detail}"


ACTS: dict[str, Act] = {
    "note": note,
    "ack": ack,
    "status": status,
    "done": _complete(skip=False),
    "skip": _complete(skip=True),
    "run": _run(dry_run=False),
    "dry_run": _run(dry_run=True),
    "rerun": rerun,
    "approve": _decide(approve=True),
    "deny": _decide(approve=False),
    "check": check,
    **PAGING_ACTS,  # commander, link, merge
}


def incident_act(request, pk: int):
    """POST from a button of the incident page; back to the page with what happened."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    incident = get_object_or_404(Incident, pk=pk)
    act = ACTS.get(request.POST.get("op", ""))
    if act is None:
        messages.error(request, "Unknown operation.")
    else:
        try:
            said = act(request, incident)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            if said:
                messages.add_message(request, *said)
    return redirect(reverse("admin:incidents_incident_work", args=[incident.pk]))
