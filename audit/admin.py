from django.contrib import admin

from audit.models import AuditEntry


class HistoryAdmin(admin.ModelAdmin):
    """For records that are history: viewable with the view permission, never
    added, changed or deleted through the admin — superusers included."""

    show_full_result_count = False  # no second COUNT(*) over a table that only grows

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(HistoryAdmin):
    list_display = ["id", "at", "actor_name", "action", "target_type", "target_id", "target_repr", "incident_id"]
    list_filter = ["action", "target_type"]
    search_fields = ["=actor_name", "=action", "=target_id", "=request_id"]
    list_select_related = ["actor"]
    date_hierarchy = None
    readonly_fields = [f.name for f in AuditEntry._meta.fields]
