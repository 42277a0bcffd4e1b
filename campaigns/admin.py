"""Campaign admin: Start / Stop / Replay, target upload, test send, export, live progress.

Thin: each view checks a permission, calls one service, and reports the outcome
as a message. The rules live in services.py.
"""

import base64

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from audit.admin import HistoryAdmin
from campaigns import selectors, services
from campaigns.errors import CampaignError
from campaigns.imports import targets_import
from campaigns.models import Campaign, SendResult, Target
from campaigns.notifications import notifications_view
from campaigns.outcomes import TARGET_FIELDS

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
        "state",
        "template",
        "throttle_per_minute",
        "time_zone",
        "last_progress_at",
    ]
    list_filter = ["state"]
    search_fields = ["name", "template"]
    readonly_fields = ["state", *TIMELINE_FIELDS]
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
        ("Timeline", {"fields": TIMELINE_FIELDS}),
    ]
    actions = ["start_campaigns", "stop_campaigns", "replay_campaigns"]
    change_form_template = "admin/campaigns/campaign/change_form.html"
    change_list_template = "admin/campaigns/campaign/change_list.html"

    def has_delete_permission(self, request, obj=None):
        return False  # sends happened; keep the record

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
                "<int:campaign_id>/upload/",
                wrap(self.upload_view),
                name="campaigns_campaign_upload",
            ),
            path(
                "<int:campaign_id>/send-test/",
                wrap(self.send_test_view),
                name="campaigns_campaign_send_test",
            ),
            path("notifications/", wrap(notifications_view), name="campaigns_notifications"),
        ] + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = extra_context or {}
        if object_id and object_id.isdigit():
            extra["campaign_status"] = _status_or_none(int(object_id))
            extra["can_control"] = self.has_control_permission(request)
            extra["can_send_test"] = request.user.has_perm("campaigns.send_test_message")
            extra["can_upload"] = request.user.has_perm("campaigns.add_target")
            extra["can_export"] = request.user.has_perm("campaigns.export_targets")
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
        queryset = Campaign.objects.filter(pk=campaign_id)
        self._run(
            request,
            queryset,
            service,
            {"start": "started", "stop": "stopped", "replay": "replayed"}[action],
        )
        return HttpResponseRedirect(_change_url(campaign_id))

    def upload_view(self, request, campaign_id: int):
        if not request.user.has_perm("campaigns.add_target"):
            raise PermissionDenied
        campaign = get_object_or_404(Campaign, pk=campaign_id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": campaign,
            "title": f"Upload targets: {campaign}",
            "region": request.POST.get("region") or settings.CAMPAIGN_DEFAULT_REGION,
        }
        if request.method == "POST":
            upload = request.FILES.get("file")
            region = (request.POST.get("region") or settings.CAMPAIGN_DEFAULT_REGION)[:2]
            if upload is None:
                messages.error(request, "Choose a CSV file.")
            else:
                try:
                    result = targets_import(
                        campaign_id=campaign_id,
                        data=upload.read(),
                        region=region,
                        actor=request.user,
                    )
                except CampaignError as exc:
                    messages.error(request, f"{exc.code}: {exc.detail}")
                    return HttpResponseRedirect(_change_url(campaign_id))
                if result.ok:
                    messages.success(
                        request,
                        f"{result.created} targets added, {result.unchanged} already present.",
                    )
                    return HttpResponseRedirect(_change_url(campaign_id))
                report = base64.b64encode(result.report_csv().encode()).decode()
                context.update(
                    {
                        "errors": result.errors[:200],
                        "error_count": len(result.errors),
                        "report_href": f"data:text/csv;base64,{report}",
                    }
                )
        return TemplateResponse(request, "campaigns/upload.html", context)

    def send_test_view(self, request, campaign_id: int):
        if not request.user.has_perm("campaigns.send_test_message"):
            raise PermissionDenied
        if request.method == "POST":
            try:
                message_id = services.campaign_send_test(
                    campaign_id=campaign_id,
                    phone=request.POST.get("phone", ""),
                    actor=request.user,
                )
                messages.success(request, f"Test message sent ({message_id}).")
            except CampaignError as exc:
                # The runbook's toast: `send_failed` with the provider's error code.
                messages.error(
                    request, f"Test message failed — {exc.code}: {exc.detail}", extra_tags="toast"
                )
        return HttpResponseRedirect(_change_url(campaign_id))


def _status_or_none(campaign_id: int):
    try:
        return selectors.campaign_status(campaign_id=campaign_id)
    except CampaignError:
        return None


def _change_url(campaign_id: int) -> str:
    return reverse("admin:campaigns_campaign_change", args=[campaign_id])


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
