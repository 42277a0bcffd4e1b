"""Read-only admin lists of paging records: pages sent, PagerDuty webhook events received,
and refused webhook deliveries counted per window."""

from django.contrib import admin

from audit.admin import HistoryAdmin
from incidents.models import IncidentPage, PagerDutyWebhookEvent, WebhookRefusal


@admin.register(IncidentPage)
class IncidentPageAdmin(HistoryAdmin):
    list_display = ["id", "incident", "provider", "event", "round", "status", "attempts", "sent_at"]
    list_filter = ["status", "provider", "event"]
    list_select_related = ["incident"]
    search_fields = ["=incident__id"]


@admin.register(PagerDutyWebhookEvent)
class PagerDutyWebhookEventAdmin(HistoryAdmin):
    list_display = ["id", "event_type", "event_id", "incident", "outcome", "received_at"]
    list_filter = ["event_type", "outcome"]
    list_select_related = ["incident"]
    search_fields = ["=event_id", "=incident__id"]


@admin.register(WebhookRefusal)
class WebhookRefusalAdmin(HistoryAdmin):
    list_display = ["window_start", "source", "reason", "count", "last_at"]
    list_filter = ["source", "reason"]
