from django.contrib import admin
from django.urls import path
from django.utils.html import format_html

from audit import views, views_verify
from audit.links import audit_entries_url
from audit.models import AuditEntry
from audit.selectors import LIST_COLUMNS


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


class AuditTrailMixin:
    """For any app's ModelAdmin: add "audit_trail" to readonly_fields to link an object
    to its audit entries in the auditor's browser."""

    @admin.display(description="Audit trail")
    def audit_trail(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        return format_html('<a href="{}">Audit entries for this object</a>', audit_entries_url(obj))


@admin.register(AuditEntry)
class AuditEntryAdmin(HistoryAdmin):
    list_display = list(LIST_COLUMNS)
    list_filter = ["action", "target_type"]
    search_fields = ["=actor_name", "=action", "=target_id", "=request_id"]
    list_select_related = ["actor"]
    date_hierarchy = None
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def get_urls(self):
        # The auditor's browser: our own lean pages, behind the admin's login and CSRF.
        wrap = self.admin_site.admin_view
        return [
            path("browse/", wrap(views.browse), name="audit_auditentry_browse"),
            path("browse/<int:entry_id>/", wrap(views.entry), name="audit_auditentry_entry"),
            path("browse/export.<str:fmt>", wrap(views.export), name="audit_auditentry_export"),
            path("verify/", wrap(views_verify.verify), name="audit_auditentry_verify"),
            path(
                "verify/export/verify_export.py",
                wrap(views_verify.verifier),
                name="audit_auditentry_verifier",
            ),
            path(
                "verify/export/public-keys.json",
                wrap(views_verify.public_keys),
                name="audit_auditentry_public_keys",
            ),
            path(
                "verify/export/checkpoints.jsonl",
                wrap(views_verify.checkpoints),
                name="audit_auditentry_checkpoints",
            ),
            *super().get_urls(),
        ]
