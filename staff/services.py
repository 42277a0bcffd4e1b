"""Staff writes: accounts and roles, API tokens, and invalidating everyone's access."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

import audit
from staff.accounts import (
    DB_SESSION_ENGINES,
    is_demotion,
    role_apply,
    role_of,
    staff_user_sessions_end,
)
from staff.models import ApiToken
from staff.roles import ROLES
from staff.signout import session_ends_record
from staff.tokens import STAFF_TOKEN_PREFIX, token_generate, token_hash

User = get_user_model()


# Writing last-used on every request would turn every API read into a write.
LAST_USED_GRANULARITY = timedelta(minutes=1)


@transaction.atomic
def staff_create(
    *,
    username: str,
    role: str,
    password: str | None,
    email: str = "",
    actor=None,
    via: str = "",
):
    """Create (or re-role) a staff user in exactly one role group, any role at once.

    The bootstrap path for whoever holds the server (`manage.py create_staff`, the demo,
    tests): through the web the admin role needs a second admin (`staff.grants`)."""
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    user, created = User.objects.get_or_create(username=username, defaults={"email": email})
    before = role_of(user)
    user.is_staff = True
    if password is not None:
        user.set_password(password)
    elif created:
        user.set_unusable_password()
    user.save()
    role_apply(user=user, role=role)
    # A demotion signs the person out at once (a new password already ends their sessions:
    # Django's session hash follows the password).
    ended = staff_user_sessions_end(user=user) if is_demotion(before, role) else 0
    audit.record(
        action="staff.created" if created else "staff.updated",
        actor=actor,
        target=user,
        data={
            "role": role,
            "role_before": before,
            "password_set": password is not None,
            "sessions_ended": ended,
            **({"via": via} if via else {}),
        },
    )
    return user


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    plaintext: str  # shown once, never stored


@transaction.atomic
def api_token_create(*, user, name: str = "", actor=None) -> IssuedToken:
    plaintext = token_generate(STAFF_TOKEN_PREFIX)
    token = ApiToken.objects.create(
        user=user, name=name, token_hash=token_hash(plaintext), prefix=plaintext[:10]
    )
    audit.record(
        action="api_token.created", actor=actor, target=token, data={"user": user.get_username()}
    )
    return IssuedToken(token=token, plaintext=plaintext)


@transaction.atomic
def api_token_revoke(
    *,
    token: ApiToken,
    actor=None,
    actor_name: str = "",
    reason: str = "",
    incident_id: int | None = None,
) -> bool:
    """Revoke one token for good (audited); False when it was revoked already."""
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    token.refresh_from_db(fields=["revoked_at"])
    if not revoked:
        return False
    audit.record(
        action="api_token.revoked",
        actor=actor,
        actor_name=actor_name,
        target=token,
        incident_id=incident_id,
        data={"reason": reason} if reason else {},
    )
    return True


class SessionsNotInDatabase(Exception):
    """The session engine keeps sessions where this portal cannot delete them all."""


def staff_sessions_invalidate(
    *,
    actor,
    revoke_api_tokens: bool,
    reason: str,
    incident_id: int | None = None,
    actor_name: str = "",
    notice: str = "",
) -> dict:
    """Sign every staff member out: delete every database session and, when asked, revoke
    every active staff API token (one audit entry per token), plus one summary entry.
    `notice` completes "You were signed out because …" on the login page of each browser
    signed out (staff/signout.py), e.g. "the key rotation for incident #7".

    Raises SessionsNotInDatabase unless SESSION_ENGINE is the database engine: deleting
    rows would otherwise leave every session valid while claiming the opposite.
    """
    if settings.SESSION_ENGINE not in DB_SESSION_ENGINES:
        raise SessionsNotInDatabase(
            f"Sessions are kept by {settings.SESSION_ENGINE}; only database sessions "
            f"({', '.join(DB_SESSION_ENGINES)}) can be invalidated here."
        )
    with transaction.atomic():
        keys = list(Session.objects.values_list("session_key", flat=True))
        deleted, _ = Session.objects.all().delete()
        session_ends_record(
            session_keys=keys, why=notice or "an administrator signed every session out"
        )
        revoked = 0
        if revoke_api_tokens:
            active = ApiToken.objects.select_for_update().filter(revoked_at__isnull=True)
            for token in active.order_by("pk"):
                revoked += api_token_revoke(
                    token=token,
                    actor=actor,
                    actor_name=actor_name,
                    reason=reason,
                    incident_id=incident_id,
                )
        # "revocations", not "api_tokens_revoked": the audit log redacts any key naming a token.
        audit.record(
            action="staff.sessions_invalidated",
            actor=actor,
            actor_name=actor_name,
            incident_id=incident_id,
            data={"sessions_deleted": deleted, "revocations": revoked, "reason": reason},
        )
    return {"sessions_deleted": deleted, "api_tokens_revoked": revoked}


def api_token_authenticate(*, plaintext: str, ip: str | None):
    """The active user behind a staff token, or None. Use of a revoked token is audited."""
    token = ApiToken.objects.select_related("user").filter(token_hash=token_hash(plaintext)).first()
    if token is None:
        return None
    if token.revoked_at or not token.user.is_active or not token.user.is_staff:
        audit.record(
            action="api_token.rejected",
            target=token,
            data={"reason": "revoked" if token.revoked_at else "inactive_user", "ip": ip},
        )
        return None
    now = timezone.now()
    if (
        token.last_used_at is None
        or now - token.last_used_at > LAST_USED_GRANULARITY
        or token.last_used_ip != ip
    ):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=ip)
    return token.user
