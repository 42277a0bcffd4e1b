from django.contrib import admin
from django.shortcuts import redirect
from django.urls import path, reverse

from audit.admin import HistoryAdmin
from incidents.admin import acts, pages, paging  # noqa: F401  (paging registers its lists)
from incidents.models import Approval, Incident, StepRun, TimelineEntry
from incidents.selectors import incidents_metrics


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    """The list of incidents; each incident is worked on its own page (`pages.incident_page`)."""

    list_display = [
        "id",
        "title",
        "runbook_title",
        "severity",
        "status",
        "opened_at",
        "resolved_at",
    ]
    list_filter = ["status", "runbook_key", "severity"]
    search_fields = ["=id", "title", "dedup_key"]
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        return False  # state changes go through the incident page's buttons (services)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("open/", view(pages.incident_open_view), name="incidents_incident_open"),
            path("<int:pk>/work/", view(pages.incident_page), name="incidents_incident_work"),
            path("<int:pk>/work/act/", view(acts.incident_act), name="incidents_incident_act"),
            path("<int:pk>/work/live/", view(pages.incident_live), name="incidents_incident_live"),
            path(
                "<int:pk>/postmortem.md",
                view(pages.postmortem_download),
                name="incidents_incident_postmortem",
            ),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        return redirect("admin:incidents_incident_open")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return redirect(reverse("admin:incidents_incident_work", args=[object_id]))

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "metrics": incidents_metrics()}
        return super().changelist_view(request, extra_context)


@admin.register(TimelineEntry)
class TimelineEntryAdmin(HistoryAdmin):
    list_display = ["id", "incident", "at", "actor_name", "kind", "message"]
    list_filter = ["kind"]
    list_select_related = ["incident"]
    search_fields = ["=incident__id"]


@admin.register(StepRun)
class StepRunAdmin(HistoryAdmin):
    list_display = ["id", "incident", "action_key", "status", "dry_run", "actor_name", "queued_at"]
    list_filter = ["status", "action_key"]
    list_select_related = ["incident"]
    readonly_fields = [f.name for f in StepRun._meta.fields]


@admin.register(Approval)
class ApprovalAdmin(HistoryAdmin):
    list_display = [
        "id",
        "incident",
        "action_key",
        "status",
        "requested_by_name",
        "decided_by_name",
        "expires_at",
    ]
    list_filter = ["status"]
    list_select_related = ["incident"]
