"""The incident page in the admin: plain forms with CSRF; every button calls one service."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from incidents.models import Approval, Incident, IncidentStep, StepRun
from incidents.runbooks import RUNBOOKS
from incidents.selectors import incident_has_active_runs, incident_phases
from incidents.services import (
    approval_decide,
    incident_acknowledge,
    incident_note_add,
    incident_open,
    incident_status_set,
    incident_step_complete,
    step_rerun,
    step_run_request,
)
from incidents.services.incidents import impacted_resolve


def _admin_context(request, title: str) -> dict:
    from django.contrib import admin

    return {**admin.site.each_context(request), "title": title, "opts": Incident._meta}


def incident_page(request, pk: int):
    if not request.user.has_perm("incidents.view_incident"):
        raise PermissionDenied
    incident = get_object_or_404(Incident, pk=pk)
    # Before the steps are read: a run finishing in between then still refreshes the page,
    # instead of leaving it showing "running" with no refresh coming (seen in tests/e2e).
    live = incident_has_active_runs(incident=incident)
    context = {
        **_admin_context(request, f"Incident #{incident.pk}: {incident.title}"),
        "incident": incident,
        "phases": incident_phases(incident=incident, user=request.user),
        "timeline": incident.timeline.order_by("id")[:500],
        "notes": incident.notes.order_by("id")[:200],
        "impacted": incident.impacted.all(),
        "live": live,
        "statuses": ["open", "mitigated", "resolved", "closed"],
        "perms_": {
            "note": request.user.has_perm("incidents.add_incidentnote"),
            "change": request.user.has_perm("incidents.change_incident"),
            "ack": request.user.has_perm("incidents.add_incident"),
            "export": request.user.has_perm("incidents.export_postmortem")
            or request.user.has_perm("incidents.change_incident"),
        },
    }
    return TemplateResponse(request, "incidents/incident_page.html", context)


def _params_from(post) -> dict:
    return {k[len("param_") :]: v for k, v in post.items() if k.startswith("param_")}


def incident_act(request, pk: int):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    incident = get_object_or_404(Incident, pk=pk)
    user, post, op = request.user, request.POST, request.POST.get("op", "")
    back = redirect(reverse("admin:incidents_incident_work", args=[incident.pk]))

    def step():
        return get_object_or_404(IncidentStep, pk=post.get("step"), incident=incident)

    try:
        if op == "note":
            if not user.has_perm("incidents.add_incidentnote"):
                raise PermissionDenied("You need the add_incidentnote permission.")
            incident_note_add(incident=incident, text=post.get("text", ""), actor=user)
            messages.success(request, "Note added.")
        elif op == "ack":
            incident_acknowledge(incident=incident, actor=user)
        elif op == "status":
            incident_status_set(
                incident=incident,
                status=post.get("status", ""),
                actor=user,
                note=post.get("note", ""),
            )
            messages.success(request, f"Incident is now {post.get('status')}.")
        elif op in ("done", "skip"):
            incident_step_complete(
                step=step(), actor=user, note=post.get("note", ""), skip=op == "skip"
            )
        elif op in ("run", "dry_run"):
            result = step_run_request(
                step=step(), actor=user, params=_params_from(post), dry_run=op == "dry_run"
            )
            _say_queued(request, result)
        elif op == "rerun":
            run = get_object_or_404(StepRun, pk=post.get("run"), incident=incident)
            _say_queued(request, step_rerun(run=run, actor=user))
        elif op in ("approve", "deny"):
            approval = get_object_or_404(Approval, pk=post.get("approval"), incident=incident)
            approval_decide(
                approval=approval,
                actor=user,
                approve=op == "approve",
                comment=post.get("comment", ""),
                params_hash_seen=post.get("params_hash", ""),
            )
            messages.success(request, f"Request {'approved' if op == 'approve' else 'denied'}.")
        elif op == "check":
            from incidents.gates import gate_evaluate

            if not user.has_perm("incidents.run_safe_step"):
                raise PermissionDenied("You need the run_safe_step permission.")
            gate = gate_evaluate(step=step())
            messages.info(request, f"Gate {gate.number}: {gate.status} — {gate.last_check_detail}")
        else:
            messages.error(request, "Unknown operation.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return back


def _say_queued(request, result) -> None:
    if isinstance(result, Approval):
        messages.warning(
            request, f"Risky step: approval #{result.pk} requested; another admin must approve it."
        )
    else:
        messages.success(request, f"{'Dry run' if result.dry_run else 'Run'} #{result.pk} queued.")


def incident_open_view(request):
    if not request.user.has_perm("incidents.add_incident"):
        raise PermissionDenied
    if request.method == "POST":
        try:
            impacted = impacted_resolve(
                vouchers=post_list(request.POST.get("vouchers", "")),
                campaigns=post_list(request.POST.get("campaigns", "")),
                stations=post_list(request.POST.get("stations", "")),
            )
            incident, created = incident_open(
                runbook_key=request.POST.get("runbook", ""),
                title=request.POST.get("title", "").strip(),
                severity=request.POST.get("severity", ""),
                actor=request.user,
                impacted=impacted,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            return redirect(reverse("admin:incidents_incident_work", args=[incident.pk]))
    context = {
        **_admin_context(request, "Open an incident"),
        "runbooks": RUNBOOKS.values(),
        "severities": Incident.Severity.choices,
    }
    return TemplateResponse(request, "incidents/incident_open.html", context)


def post_list(value: str) -> list[str]:
    return [v.strip() for v in value.replace("\n", ",").split(",") if v.strip()][:100]


def postmortem_download(request, pk: int):
    user = request.user
    if not (
        user.has_perm("incidents.export_postmortem") or user.has_perm("incidents.change_incident")
    ):
        raise PermissionDenied
    incident = get_object_or_404(Incident, pk=pk)
    if not incident.postmortem_markdown:
        from incidents.services import postmortem_markdown

        body = postmortem_markdown(incident=incident)  # a preview: not stored until resolved
    else:
        body = incident.postmortem_markdown
    response = HttpResponse(body, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="incident-{incident.pk}-postmortem.md"'
    return response
