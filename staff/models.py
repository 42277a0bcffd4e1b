from django.conf import settings
from django.db import models

from approvals.fields import ApprovalFields


class ApiToken(models.Model):
    """A staff member's API token. Only its SHA-256 is stored; revoking is permanent."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(
        max_length=12, editable=False, help_text="First characters, to tell tokens apart"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True, editable=False)

    class Meta:
        # Moved from `opsportal` without touching the table (staff/migrations/0001_initial.py).
        db_table = "opsportal_apitoken"
        ordering = ["-created_at"]
        verbose_name = "staff API token"

    def __str__(self) -> str:
        state = "revoked" if self.revoked_at else "active"
        return f"{self.prefix}… ({self.user}, {state})"


class RoleRequest(ApprovalFields):
    """One admin asks for an account to get the admin role; another admin approves.

    The two-person rule is `approvals.rules` (the runbooks' risky steps obey the same);
    `change_hash` binds the approval to this account in this state (id, username, role
    before, active) getting this role. Granted by `staff.grants.role_request_decide`.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_requests"
    )
    username = models.CharField(max_length=150)
    role = models.CharField(max_length=32)
    role_before = models.CharField(max_length=32, blank=True)
    # What the approval is bound to, as hashed into change_hash (shown when it changed).
    bound = models.JSONField(default=dict)

    class Meta:
        ordering = ["-id"]
        default_permissions = ("view",)
        permissions = [("grant_admin_role", "Can request and approve the admin role")]
        indexes = [models.Index(fields=["status", "expires_at"], name="rolerequest_status")]

    def __str__(self) -> str:
        return f"role request #{self.pk}: {self.username} → {self.role} ({self.status})"


class FailedLoginWindow(models.Model):
    """Failed logins for usernames that do not exist, counted per time window.

    An anonymous client must not grow the audit log without bound: these failures are
    counted here (one row per open window) and written as ONE audit entry per window
    with the count, when the window has closed (`staff.security.login_failures_flush`).
    """

    window_start = models.DateTimeField(unique=True)
    failures = models.PositiveIntegerField(default=0)
    lockouts = models.PositiveIntegerField(default=0)  # axes lockouts among them
    usernames = models.JSONField(default=list, blank=True)  # a bounded sample
    ips = models.JSONField(default=list, blank=True)  # a bounded sample

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.failures} failed login(s) from {self.window_start:%H:%M}"


class SessionEnd(models.Model):
    """A session ended by a sign-out of everyone (staff.services.staff_sessions_invalidate).

    Only the SHA-256 of the ended session's key is kept, with why and when, so that the
    browser which still carries that key — and no one else — is told on the login page why
    it was signed out (staff/signout.py). Rows older than a session's lifetime are pruned.
    """

    key_hash = models.CharField(max_length=64, unique=True)
    why = models.CharField(max_length=200)
    at = models.DateTimeField(db_index=True)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"sign-out at {self.at:%Y-%m-%d %H:%M} ({self.why})"
