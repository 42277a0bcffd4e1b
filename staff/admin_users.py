"""Staff accounts in the admin: a role picker instead of groups, permissions and flags.

On no form: `is_superuser`, `is_staff`, `groups`, `user_permissions` (an admin could give
them to itself or a second account). The role is one of the four groups; choosing
"admin" files a request another admin approves (`staff.grants`). Superusers are made by
`manage.py createsuperuser` alone; they are listed (and audited) like everyone, and their
accounts are changed on the server only. Nobody sets another person's password here:
that would let an admin sign in as a second admin.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html

from staff.accounts import role_of, staff_account_saved
from staff.grants import staff_role_set
from staff.roles import ADMIN_ROLE, ROLES

ROLE_CHOICES = [("", "— no role (cannot use the portal) —")] + [(r, r) for r in ROLES]
ROLE_HELP = (
    "One role per account. Choosing admin asks another admin to approve it (Role requests); "
    "any other change takes effect at once, and a demoted person is signed out."
)
PROFILE = ("username", "first_name", "last_name", "email", "is_active")


class RoleField(forms.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=ROLE_CHOICES, required=False, help_text=ROLE_HELP, **kwargs)


class StaffUserChangeForm(UserChangeForm):
    role = RoleField()

    class Meta(UserChangeForm.Meta):
        fields = PROFILE

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.pop("password", None)  # shown read-only as "password_state"
        if self.instance.pk:
            self.initial["role"] = self.fields["role"].initial = role_of(self.instance)


class StaffUserCreationForm(AdminUserCreationForm):
    role = RoleField()

    class Meta(AdminUserCreationForm.Meta):
        fields = ("username", "first_name", "last_name", "email")


class StaffUserAdmin(UserAdmin):
    form = StaffUserChangeForm
    add_form = StaffUserCreationForm
    # The role is audited by its own service (staff.role_changed / admin_role_requested).
    audit_exclude_fields = ("role",)
    list_display = ["username", "email", "role", "is_active", "is_superuser", "last_login"]
    list_filter = ["is_active", "is_superuser", "groups"]
    search_fields = ["username", "email", "first_name", "last_name"]
    ordering = ["username"]
    readonly_fields = ["password_state", "is_superuser", "last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["username", "password_state"]}),
        ("Person", {"fields": ["first_name", "last_name", "email"]}),
        ("Access", {"fields": ["role", "is_active", "is_superuser"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["username", "usable_password", "password1", "password2"],
            },
        ),
        ("Person", {"fields": ["first_name", "last_name", "email"]}),
        ("Access", {"fields": ["role"]}),
    ]
    filter_horizontal = ()

    @admin.display(description="Role")
    def role(self, obj):
        return role_of(obj) or "—"

    @admin.display(description="Password")
    def password_state(self, obj):
        if obj is None or not obj.has_usable_password():
            return "not set (cannot sign in with a password)"
        return "set (each person changes their own: Change password, top right)"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False  # superusers are made and changed on the server only
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: the audit log and approvals name the account

    def get_actions(self, request):
        return {}  # no bulk delete

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        staff_account_saved(user=obj, changed=form.changed_data, actor=request.user)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        role = form.cleaned_data.get("role", "")
        pending = staff_role_set(user=form.instance, role=role, actor=request.user)
        if pending is not None:
            url = reverse("admin:staff_rolerequest_decide", args=[pending.pk])
            messages.warning(
                request,
                format_html(
                    "The {} role for {} waits for another admin's approval: "
                    '<a href="{}">request #{}</a> (until {} UTC).',
                    ADMIN_ROLE,
                    form.instance.get_username(),
                    url,
                    pending.pk,
                    f"{pending.expires_at:%Y-%m-%d %H:%M}",
                ),
            )

    def user_change_password(self, request, id, form_url=""):
        if str(request.user.pk) != str(id):
            raise PermissionDenied("Each person sets their own password.")
        with transaction.atomic():  # the change and its audit entry together
            return super().user_change_password(request, id, form_url)
