"""Staff accounts changed through the web: whose account one may change, applying a role,
deactivation, ending a person's sessions. The role picker is `staff.grants.staff_role_set`
(the admin role is requested and approved there).

`is_superuser`, `is_staff`, groups and per-user permissions are on no form: a role is one
of the four groups (staff/roles.py), `is_staff` follows from having one, and superusers
are made by `manage.py createsuperuser` on the server alone.
"""

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

import audit
from staff.roles import ROLES

CHANGE_PERMISSION = "auth.change_user"
ADD_PERMISSION = "auth.add_user"
# Only sessions kept in the database can be deleted from here: cached_db would keep
# serving deleted sessions from the cache, and cookie sessions live in the browsers.
DB_SESSION_ENGINES = ("django.contrib.sessions.backends.db",)


def role_of(user) -> str:
    """The user's role ("" for none). One role per account; should an account hold several
    groups (made outside the portal), the one listed first in ROLES counts."""
    if user.pk is None:
        return ""
    held = set(user.groups.values_list("name", flat=True))
    return next((role for role in ROLES if role in held), "")


def is_demotion(before: str, after: str) -> bool:
    """True unless `after` keeps every permission `before` gave."""
    return bool(before) and not set(ROLES.get(after, ())) >= set(ROLES[before])


def staff_account_check(*, actor: Any, user: Any, adding: bool = False) -> None:
    """May `actor` change this account through the web at all?"""
    if not actor.has_perm(ADD_PERMISSION if adding else CHANGE_PERMISSION):
        raise PermissionDenied("You need the change_user permission.")
    if user.pk is not None and user.is_superuser and not actor.is_superuser:
        raise PermissionDenied("A superuser's account is changed on the server only.")


def role_apply(*, user: Any, role: str) -> None:
    """Make `role` the user's one role ("" = none); no checks, no audit: callers do both."""
    user.groups.set([Group.objects.get(name=role)] if role else [])
    is_staff = bool(role) or user.is_superuser
    if user.is_staff != is_staff:
        user.is_staff = is_staff
        user.save(update_fields=["is_staff"])


@transaction.atomic
def staff_account_saved(*, user: Any, changed: list[str], actor: Any) -> None:
    """After the account form saved `changed` fields: a deactivated account is signed out
    at once (its API tokens are refused from the same moment: they need an active user)."""
    if "is_active" in changed and not user.is_active:
        ended = staff_user_sessions_end(user=user)
        audit.record(
            action="staff.deactivated",
            actor=actor,
            target=user,
            data={"sessions_ended": ended},
        )


def staff_user_sessions_end(*, user: Any) -> int:
    """Delete the user's database sessions; returns how many. With another session engine
    nothing can be deleted here, and nothing needs to be for safety: permissions are read
    on every request and an inactive user is never authenticated (ModelBackend)."""
    if settings.SESSION_ENGINE not in DB_SESSION_ENGINES:
        return 0
    uid, mine = str(user.pk), []
    # Staff sessions are few (12 h each); a session's user is only known once decoded.
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == uid:
            mine.append(session.session_key)
    return Session.objects.filter(session_key__in=mine).delete()[0] if mine else 0
