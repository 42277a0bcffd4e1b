"""Staff API tokens in the admin: read-only, revocable (users and groups: Django's own admin)."""

from django.contrib import admin, messages

from staff.models import ApiToken
from staff.services import api_token_revoke


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "prefix",
        "user",
        "name",
        "created_at",
        "last_used_at",
        "last_used_ip",
        "revoked_at",
    ]
    list_filter = ["revoked_at"]
    search_fields = ["user__username", "name", "prefix"]
    list_select_related = ["user"]
    readonly_fields = [
        "user",
        "name",
        "prefix",
        "created_at",
        "last_used_at",
        "last_used_ip",
        "revoked_at",
    ]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # tokens are issued by `manage.py create_api_token`, shown once

    def has_delete_permission(self, request, obj=None):
        return False  # revoked tokens stay, so their use can still be recognised

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke(self, request, queryset):
        revoked = sum(api_token_revoke(token=token, actor=request.user) for token in queryset)
        messages.success(request, f"Revoked {revoked} token(s).")
