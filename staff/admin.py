"""Staff in the admin: accounts (staff/admin_users.py), roles (read-only: defined in code),
admin-role requests and their approval page, API tokens (read-only, revocable)."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from audit.admin import HistoryAdmin
from staff.admin_users import StaffUserAdmin
from staff.grants import GRANT_PERMISSION, role_request_decide
from staff.models import ApiToken, RoleRequest
from staff.services import api_token_revoke

admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), StaffUserAdmin)
admin.site.unregister(Group)


@admin.register(Group)
class RoleGroupAdmin(HistoryAdmin):
    """The four roles: groups whose permissions staff/roles.py sets after every migrate.
    Read-only for everyone, superusers included: a role is changed in code, reviewed."""

    list_display = ["name", "permission_count"]
    fields = ["name", "permissions"]
    readonly_fields = fields

    @admin.display(description="Permissions")
    def permission_count(self, obj):
        return obj.permissions.count()


@admin.register(RoleRequest)
class RoleRequestAdmin(HistoryAdmin):
    """Requests for the admin role; another admin approves or denies each on its page."""

    list_display = [
        "id",
        "username",
        "role",
        "role_before",
        "state",
        "requested_by_name",
        "requested_at",
        "decided_by_name",
    ]
    list_filter = ["status"]
    search_fields = ["=username", "=requested_by_name"]
    readonly_fields = [f.name for f in RoleRequest._meta.fields if f.name != "bound"]
    fields = readonly_fields

    @admin.display(description="Status")
    def state(self, obj):
        if obj.status == RoleRequest.Status.PENDING and obj.expires_at <= timezone.now():
            return "expired"
        return "granted" if obj.status == RoleRequest.Status.USED else obj.status

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/decide/", wrap(self.decide_view), name="staff_rolerequest_decide"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return redirect(reverse("admin:staff_rolerequest_decide", args=[object_id]))

    def decide_view(self, request, pk: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        role_request = get_object_or_404(RoleRequest, pk=pk)
        if request.method == "POST":
            try:
                role_request = role_request_decide(
                    request=role_request,
                    actor=request.user,
                    approve=request.POST.get("decision") == "approve",
                    comment=request.POST.get("comment", ""),
                    hash_seen=request.POST.get("change_hash", ""),
                )
            except (PermissionDenied, ValidationError) as exc:
                messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
            else:
                messages.success(
                    request, f"Request #{role_request.pk}: {self.state(role_request)}."
                )
            return redirect(reverse("admin:staff_rolerequest_decide", args=[pk]))
        user = request.user
        context = {
            **self.admin_site.each_context(request),
            "title": f"Admin role for {role_request.username} (request #{role_request.pk})",
            "opts": self.model._meta,
            "role_request": role_request,
            "state": self.state(role_request),
            "can_decide": (
                self.state(role_request) == RoleRequest.Status.PENDING
                and user.has_perm(GRANT_PERMISSION)
                and user.pk != role_request.requested_by_id
            ),
            "own_request": user.pk == role_request.requested_by_id,
        }
        return TemplateResponse(request, "staff/role_request.html", context)


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
