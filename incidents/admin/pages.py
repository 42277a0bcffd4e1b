"""The incident pages in the admin: the incident page, opening one, the postmortem download.
Plain forms with CSRF; reads come from selectors, every button calls a service (acts.py)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from incidents.engine.runbook import runbooks_all
from incidents.models import Incident
from incidents.selectors import incident_page_data, incident_paging_data
from incidents.services import impacted_resolve, incident_open, incident_postmortem_get
from incidents.services.step_actions import step_actions

OPEN_PERMISSION = "incidents.add_incident"


def _admin_context(request, title: str) -> dict:
    return {**admin.site.each_context(request), "title": title, "opts": Incident._meta}


def _step_whys(request, incident: Incident, phases: list[dict]) -> None:
    """Each step's buttons and, for every one the reader does not get, why (step_actions)."""
    link = request.build_absolute_uri(reverse("admin:incidents_incident_work", args=[incident.pk]))
    for phase in phases:
        for view in phase["steps"]:
            view.step.incident = incident  # the page's incident: no query per step
            view.why = step_actions(
                step=view.step,
                user=request.user,
                pending_approval=view.pending_approval,
                link=link,
            )


def _page_data(request, pk: int) -> dict:
    data = incident_page_data(pk=pk, user=request.user)  # refuses who may not view incidents
    data.update(incident_paging_data(incident=data["incident"], user=request.user))
    _step_whys(request, data["incident"], data["phases"])
    return data


def incident_page(request, pk: int):
    data = _page_data(request, pk)
    incident = data["incident"]
    context = {**_admin_context(request, f"Incident #{incident.pk}: {incident.title}"), **data}
    return TemplateResponse(request, "incidents/incident_page.html", context)


def incident_live(request, pk: int):
    """The page's live body alone, for portal.js to swap in place (same reads and rights;
    admin_view makes it never cached)."""
    return TemplateResponse(request, "incidents/_live.html", _page_data(request, pk))


def post_list(value: str) -> list[str]:
    return [v.strip() for v in value.replace("\n", ",").split(",") if v.strip()][:100]


def incident_open_view(request):
    # The form page itself is for people who may open incidents; incident_open checks again.
    if not request.user.has_perm(OPEN_PERMISSION):
        raise PermissionDenied
    if request.method == "POST":
        post = request.POST
        try:
            impacted = impacted_resolve(
                vouchers=post_list(post.get("vouchers", "")),
                campaigns=post_list(post.get("campaigns", "")),
                stations=post_list(post.get("stations", "")),
            )
            incident, _ = incident_open(
                runbook_key=post.get("runbook", ""),
                title=post.get("title", "").strip(),
                severity=post.get("severity", ""),
                actor=request.user,
                impacted=impacted,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            return redirect(reverse("admin:incidents_incident_work", args=[incident.pk]))
    context = {
        **_admin_context(request, "Open an incident"),
        "runbooks": runbooks_all().values(),
        "severities": Incident.Severity.choices,
    }
    return TemplateResponse(request, "incidents/incident_open.html", context)


def postmortem_download(request, pk: int):
    incident = get_object_or_404(Incident, pk=pk)
    body = incident_postmortem_get(incident=incident, actor=request.user)
    response = HttpResponse(body, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="incident-{incident.pk}-postmortem.md"'
    return response
