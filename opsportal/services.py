from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

import audit
from opsportal.models import ApiToken
from opsportal.roles import ROLES
from opsportal.tokens import STAFF_TOKEN_PREFIX, token_generate, token_hash

User = get_user_model()

# Writing last-used on every request would turn every API read into a write.
LAST_USED_GRANULARITY = timedelta(minutes=1)


@transaction.atomic
def staff_create(*, username: str, role: str, password: str | None, email: str = "", actor=None):
    """Create (or re-role) a staff user in exactly one role group."""
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    user, created = User.objects.get_or_create(username=username, defaults={"email": email})
    user.is_staff = True
    if password is not None:
        user.set_password(password)
    elif created:
        user.set_unusable_password()
    user.save()
    user.groups.set([Group.objects.get(name=role)])
    audit.record(
        action="staff.created" if created else "staff.updated",
        actor=actor,
        target=user,
        data={"role": role, "password_set": password is not None},
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
def api_token_revoke(*, token: ApiToken, actor=None) -> None:
    if token.revoked_at:
        return
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record(action="api_token.revoked", actor=actor, target=token)


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
