from django.contrib import admin

from campaigns.models import Campaign, Target


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "state", "template", "throttle_per_minute", "time_zone", "last_progress_at"]
    list_filter = ["state"]
    search_fields = ["name", "template"]
    readonly_fields = ["state", "created_at", "updated_at", "started_at", "completed_at", "last_progress_at"]
    fieldsets = [
        (None, {"fields": ["name", "state", "template", "template_language", "template_variables"]}),
        ("Pace", {"fields": ["throttle_per_minute", "quiet_hours_start", "quiet_hours_end", "time_zone"]}),
        ("Timeline", {"fields": ["created_at", "updated_at", "started_at", "completed_at", "last_progress_at"]}),
    ]

    def has_delete_permission(self, request, obj=None):
        return False  # sends happened; keep the record


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    list_display = ["phone", "campaign", "status", "attempts", "next_attempt_at", "last_error_code", "updated_at"]
    list_filter = ["status", "last_error_code"]
    search_fields = ["=phone", "=provider_message_id"]
    list_select_related = ["campaign"]
    show_full_result_count = False
    raw_id_fields = ["campaign"]
    readonly_fields = ["status", "attempts", "next_attempt_at", "provider_message_id", "last_error_code", "updated_at"]

    def has_change_permission(self, request, obj=None):
        return False  # the dispatcher owns a target's state

    def has_delete_permission(self, request, obj=None):
        return False
