"""Login throttling (django-axes) and the audit of failed logins and lockouts."""

from typing import Any

from axes.backends import AxesStandaloneBackend

import audit

MAX_USERNAME = 150


class RequestBoundAxesBackend(AxesStandaloneBackend):
    """Lockouts apply to logins over HTTP: every Django login view passes `request`.

    `authenticate()` called without a request (the test client's `login()`, a script) has
    no client address to throttle by; it goes on to the next backend instead of raising
    AxesBackendRequestParameterRequired."""

    def authenticate(self, request, username=None, password=None, **kwargs: Any):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def _ip(request) -> str:
    return (getattr(request, "META", None) or {}).get("REMOTE_ADDR", "") if request else ""


def audit_login_failed(sender, credentials: dict, request=None, **kwargs: Any) -> None:
    """django's user_login_failed: who tried, from where (never the password)."""
    username = str(credentials.get("username", ""))[:MAX_USERNAME]
    audit.record(
        action="auth.login_failed",
        target_type="auth.user",
        target_repr=username,
        data={
            "username": username,
            "ip": _ip(request),
            "locked_out": bool(getattr(request, "axes_locked_out", False)),
        },
    )


def audit_locked_out(
    sender, request=None, username: str = "", ip_address: str = "", **kwargs: Any
) -> None:
    """axes' user_locked_out: the failure limit was reached."""
    username = str(username or "")[:MAX_USERNAME]
    audit.record(
        action="auth.locked_out",
        target_type="auth.user",
        target_repr=username,
        data={"username": username, "ip": ip_address or _ip(request)},
    )


def connect_security_signals() -> None:
    from axes.signals import user_locked_out
    from django.contrib.auth.signals import user_login_failed

    user_login_failed.connect(audit_login_failed, dispatch_uid="staff.audit_login_failed")
    user_locked_out.connect(audit_locked_out, dispatch_uid="staff.audit_locked_out")
