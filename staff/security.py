"""Login throttling (django-axes) and the audit of logins: each success, each failure or
lockout for an account that exists, and failures for unknown usernames counted per window.

Why count unknown usernames: an anonymous client could otherwise grow the audit log
without bound by posting made-up names. Those failures go to one `FailedLoginWindow` row
per window, written as ONE `auth.login_failed_unknown` entry with the count once the window
has closed (`login_failures_flush`, from the staff tick and from the next failure).
"""

from datetime import datetime, timedelta
from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

import audit
from audit.redaction import mask_text
from staff.models import FailedLoginWindow

MAX_USERNAME = 150
SAMPLE = 10  # usernames and addresses kept per window, to see what was tried


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


def _window() -> timedelta:
    return timedelta(minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES)


def _window_start(now: datetime) -> datetime:
    size = int(_window().total_seconds())
    return datetime.fromtimestamp(int(now.timestamp()) // size * size, tz=now.tzinfo)


def _known(username: str) -> bool:
    return bool(username) and get_user_model().objects.filter(username=username).exists()


def login_succeeded(*, request: Any, user: Any) -> None:
    """The login page signed someone in."""
    audit.record(action="auth.login", actor=user, target=user, data={"ip": _ip(request)})


def password_changed(*, request: Any, user: Any) -> None:
    """Someone changed their own password (the admin's "Change password" page)."""
    audit.record(action="auth.password_changed", actor=user, target=user, data={"ip": _ip(request)})


def login_failure_count(*, username: str, ip: str, locked_out: bool = False) -> None:
    """Count one failure for a username that does not exist in its window's row."""
    login_failures_flush()
    start = _window_start(timezone.now())
    FailedLoginWindow.objects.get_or_create(window_start=start)
    with transaction.atomic():
        row = FailedLoginWindow.objects.select_for_update().get(window_start=start)
        row.failures += 0 if locked_out else 1
        row.lockouts += 1 if locked_out else 0
        # A password typed into the username box is masked like any other secret.
        name = mask_text(username)
        if name not in row.usernames and len(row.usernames) < SAMPLE:
            row.usernames.append(name)
        if ip and ip not in row.ips and len(row.ips) < SAMPLE:
            row.ips.append(ip)
        row.save()


def login_failures_flush() -> int:
    """Write one audit entry per closed window (with its counts) and drop its row."""
    cutoff = timezone.now() - _window()
    written = 0
    closed = FailedLoginWindow.objects.filter(window_start__lte=cutoff)
    for row_id in closed.values_list("pk", flat=True)[:100]:
        with transaction.atomic():
            row = FailedLoginWindow.objects.select_for_update(skip_locked=True).filter(pk=row_id)
            row = row.first()
            if row is None:
                continue  # another process is writing it
            audit.record(
                action="auth.login_failed_unknown",
                target_type="auth.user",
                target_repr=f"{row.failures} failed login(s) for unknown usernames",
                data={
                    "window_start": row.window_start.isoformat(),
                    "window_end": (row.window_start + _window()).isoformat(),
                    "failures": row.failures,
                    "lockouts": row.lockouts,
                    "usernames_sample": row.usernames,
                    "ips_sample": row.ips,
                },
            )
            row.delete()
            written += 1
    return written


def audit_login_failed(sender, credentials: dict, request=None, **kwargs: Any) -> None:
    """django's user_login_failed: who tried, from where (never the password)."""
    username = str(credentials.get("username", ""))[:MAX_USERNAME]
    locked_out = bool(getattr(request, "axes_locked_out", False))
    if not _known(username):
        login_failure_count(username=username, ip=_ip(request))
        return
    audit.record(
        action="auth.login_failed",
        target_type="auth.user",
        target_repr=username,
        data={"username": username, "ip": _ip(request), "locked_out": locked_out},
    )


def audit_locked_out(
    sender, request=None, username: str = "", ip_address: str = "", **kwargs: Any
) -> None:
    """axes' user_locked_out: the failure limit was reached."""
    username = str(username or "")[:MAX_USERNAME]
    ip = ip_address or _ip(request)
    if not _known(username):
        login_failure_count(username=username, ip=ip, locked_out=True)
        return
    audit.record(
        action="auth.locked_out",
        target_type="auth.user",
        target_repr=username,
        data={"username": username, "ip": ip},
    )


def superuser_before_save(sender, instance, update_fields=None, **kwargs: Any) -> None:
    if update_fields is not None and "is_superuser" not in update_fields:
        instance._was_superuser = instance.is_superuser  # e.g. last_login: no query
        return
    instance._was_superuser = bool(
        instance.pk and sender.objects.filter(pk=instance.pk, is_superuser=True).exists()
    )


def superuser_after_save(sender, instance, created: bool, **kwargs: Any) -> None:
    """Superusers are made on the server (`manage.py createsuperuser`, or a shell), never
    through the web. A signal, because that command cannot be wrapped: whichever way an
    account becomes (or stops being) a superuser, the audit log says so."""
    was = getattr(instance, "_was_superuser", False)
    if instance.is_superuser == was:
        return
    audit.record(
        action="staff.superuser_granted" if instance.is_superuser else "staff.superuser_removed",
        target=instance,
        data={"created": created, "via": "the server (createsuperuser or a shell)"},
    )


def connect_security_signals() -> None:
    from axes.signals import user_locked_out
    from django.contrib.auth import get_user_model
    from django.contrib.auth.signals import user_login_failed
    from django.db.models.signals import post_save, pre_save

    user_login_failed.connect(audit_login_failed, dispatch_uid="staff.audit_login_failed")
    user_locked_out.connect(audit_locked_out, dispatch_uid="staff.audit_locked_out")
    User = get_user_model()
    pre_save.connect(superuser_before_save, sender=User, dispatch_uid="staff.superuser_before")
    post_save.connect(superuser_after_save, sender=User, dispatch_uid="staff.superuser_after")
