"""Campaign admin: Start / Stop / Replay, target upload, test send, export, live progress.

Thin: each view checks a permission, calls one service, and reports the outcome
as a message. The rules live in services.py; which buttons a page shows, in controls.py.
The progress panel (state in words, counts, the buttons that apply) is one fragment,
rendered in the page and re-fetched by it while the campaign runs (`progress/`).
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html

from audit.admin import HistoryAdmin
from campaigns import admin_views, services
from campaigns.controls import CONTROL_PERMISSION, CONTROLS, control_applies
from campaigns.errors import CampaignError
from campaigns.models import Campaign, SendResult, Target
from campaigns.notifications import notifications_view
from campaigns.outcomes import TARGET_FIELDS
from campaigns.progress import campaigns_progress

# What the services and the dispatcher keep: shown, never edited by form.
TIMELINE_FIELDS = [
    "created_at",
    "updated_at",
    "started_at",
    "completed_at",
    "last_progress_at",
    "backoff_until",
    "next_send_at",
]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "state_words",
        "progress",
        "template",
        "throttle_per_minute",
        "time_zone",
        "last_progress",
    ]
    list_filter = ["state"]
    search_fields = ["name", "template"]
    readonly_fields = ["state", *(f"{name}_when" for name in TIMELINE_FIELDS)]
    fieldsets = [
        (
            None,
            {"fields": ["name", "state", "template", "template_language", "template_variables"]},
        ),
        (
            "Pace",
            {
                "fields": [
                    "throttle_per_minute",
                    "quiet_hours_start",
                    "quiet_hours_end",
                    "time_zone",
                ]
            },
        ),
        ("Timeline", {"fields": [f"{name}_when" for name in TIMELINE_FIELDS]}),
    ]
    actions = ["start_campaigns", "stop_campaigns", "replay_campaigns"]
    change_form_template = "admin/campaigns/campaign/change_form.html"
    change_list_template = "admin/campaigns/campaign/change_list.html"

    def has_delete_permission(self, request, obj=None):
        return False  # sends happened; keep the record

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and set(form.changed_data) & set(services.PACE_FIELDS):
            services.campaign_pace_changed(campaign_id=obj.pk)

    # --- the list: state in words and progress, one grouped query for the whole page -------

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        changelist.result_list = list(changelist.result_list)
        for row in campaigns_progress(changelist.result_list):
            row["campaign"].progress_row = row
        return changelist

    @admin.display(description="State", ordering="state")
    def state_words(self, obj):
        row = getattr(obj, "progress_row", None)
        if row is None:
            return obj.state
        words = row["words"]
        return format_html(
            '<span class="pill pill-{}" data-state="{}">{}</span>', words.tone, obj.state, words
        )

    @admin.display(description="Progress")
    def progress(self, obj):
        row = getattr(obj, "progress_row", None)
        return render_to_string("campaigns/list_progress.html", {"row": row}) if row else ""

    @admin.display(description="Last progress", ordering="last_progress_at")
    def last_progress(self, obj):
        # The project's `when` filter (relative + local time, UTC on hover), via its template.
        return render_to_string("campaigns/when.html", {"value": obj.last_progress_at})

    def has_control_permission(self, request):
        # The rule is the services' own (they refuse anyone else); here it hides the buttons.
        return services.campaign_control_allowed(actor=request.user)

    # --- bulk actions (same services as the buttons and the JSON API) ---------------------

    def _run(self, request, queryset, service, verb: str) -> None:
        for campaign in queryset:
            try:
                service(campaign_id=campaign.pk, actor=request.user)
                self.message_user(request, f"{campaign}: {verb}.", messages.SUCCESS)
            except CampaignError as exc:
                self.message_user(
                    request, f"{campaign}: {exc.code} {exc.detail}".strip(), messages.ERROR
                )

    @admin.action(description="Start", permissions=["control"])
    def start_campaigns(self, request, queryset):
        self._run(request, queryset, services.campaign_start, "started")

    @admin.action(description="Stop (pause)", permissions=["control"])
    def stop_campaigns(self, request, queryset):
        self._run(request, queryset, services.campaign_stop, "stopped")

    @admin.action(description="Replay dispatcher (stop, then start)", permissions=["control"])
    def replay_campaigns(self, request, queryset):
        self._run(request, queryset, services.campaign_replay, "replayed")

    # --- extra pages ----------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:campaign_id>/control/<str:action>/",
                wrap(self.control_view),
                name="campaigns_campaign_control",
            ),
            path(
                "<int:campaign_id>/progress/",
                wrap(admin_views.progress_view),
                name="campaigns_campaign_progress",
            ),
            path(
                "<int:campaign_id>/upload/",
                wrap(admin_views.upload_view),
                name="campaigns_campaign_upload",
            ),
            path(
                "<int:campaign_id>/send-test/",
                wrap(admin_views.send_test_view),
                name="campaigns_campaign_send_test",
            ),
            path("notifications/", wrap(notifications_view), name="campaigns_notifications"),
        ] + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = extra_context or {}
        if object_id and object_id.isdigit():
            campaign = Campaign.objects.filter(pk=int(object_id)).first()
            if campaign is not None:
                extra["panel"] = admin_views.panel_context(campaign, request.user)
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def control_view(self, request, campaign_id: int, action: str):
        if request.method != "POST":
            return HttpResponseRedirect(_change_url(campaign_id))
        service = {
            "start": services.campaign_start,
            "stop": services.campaign_stop,
            "replay": services.campaign_replay,
        }.get(action)
        if service is None:
            raise PermissionDenied
        if not self.has_control_permission(request):
            # The services refuse too; refusing here lets the 403 page name the permission.
            raise PermissionDenied(CONTROL_PERMISSION)
        campaign = get_object_or_404(Campaign, pk=campaign_id)
        if not control_applies(key=action, state=campaign.state):
            # A button from a page that is out of date (the campaign moved on meanwhile).
            messages.warning(
                request,
                f"{campaign}: {CONTROLS[action].label} does nothing now: "
                f"the campaign is {campaign.state}.",
            )
            return HttpResponseRedirect(_change_url(campaign_id))
        self._run(
            request,
            Campaign.objects.filter(pk=campaign_id),
            service,
            {"start": "started", "stop": "stopped", "replay": "replayed"}[action],
        )
        return HttpResponseRedirect(_change_url(campaign_id))


def _change_url(campaign_id: int) -> str:
    return reverse("admin:campaigns_campaign_change", args=[campaign_id])


def _shown_as_when(name: str):
    """A timeline field shown the portal's way: relative + local time, exact UTC on hover."""

    @admin.display(description=Campaign._meta.get_field(name).verbose_name.capitalize())
    def show(self, obj):
        return render_to_string("campaigns/when.html", {"value": getattr(obj, name)})

    return show


for _name in TIMELINE_FIELDS:
    setattr(CampaignAdmin, f"{_name}_when", _shown_as_when(_name))


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    list_display = [
        "phone",
        "campaign",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error_code",
        "updated_at",
    ]
    list_filter = ["status"]
    search_fields = ["=phone", "=provider_message_id"]
    list_select_related = ["campaign"]
    show_full_result_count = False
    raw_id_fields = ["campaign"]
    readonly_fields = list(TARGET_FIELDS)

    def has_change_permission(self, request, obj=None):
        return False  # the dispatcher owns a target's state

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SendResult)
class SendResultAdmin(HistoryAdmin):
    list_display = ["at", "campaign", "phone", "outcome", "error_code", "message_id", "is_test"]
    list_filter = ["outcome", "is_test"]
    search_fields = ["=phone", "=error_code", "=message_id"]
    list_select_related = ["campaign"]
    raw_id_fields = ["campaign", "target"]
