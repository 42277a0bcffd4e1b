"""The role picker, and the admin role granted by two admins: one requests, another
approves — the two-person rule of `approvals.rules`, which the runbooks' risky steps obey
too (never the requester, bound to the exact change, expiring). Requests and grants are
announced in Slack #ops after commit. `manage.py create_staff --role admin` (whoever holds
the server) stays the bootstrap path for the first admins (`staff.services.staff_create`).
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

import audit
from approvals.rules import (
    approval_decision_check,
    approval_decision_record,
    approval_expiry,
    approval_use_refusal,
    change_hash,
)
from staff.accounts import (
    is_demotion,
    role_apply,
    role_of,
    staff_account_check,
    staff_user_sessions_end,
)
from staff.models import RoleRequest
from staff.roles import ADMIN_ROLE, ROLES

GRANT_PERMISSION = "staff.grant_admin_role"
ANNOUNCE_TASK = "staff.tasks.role_request_announce"
Status = RoleRequest.Status


def role_request_ttl() -> timedelta:
    return timedelta(hours=settings.STAFF_ROLE_REQUEST_TTL_HOURS)


@transaction.atomic
def staff_role_set(*, user: Any, role: str, actor: Any) -> RoleRequest | None:
    """The role picker. Any role but admin takes effect at once (a demoted user's sessions
    end); the admin role becomes a request another admin approves, which is returned."""
    staff_account_check(actor=actor, user=user)
    if role and role not in ROLES:
        raise ValidationError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    before = role_of(user)
    if role == before:
        return None
    if role == ADMIN_ROLE:
        return role_request_create(user=user, role=role, actor=actor)
    role_apply(user=user, role=role)
    ended = staff_user_sessions_end(user=user) if is_demotion(before, role) else 0
    audit.record(
        action="staff.role_changed",
        actor=actor,
        target=user,
        data={"before": before, "after": role, "sessions_ended": ended},
    )
    return None


def _bound(user: Any, role: str) -> dict:
    """What an approval of `role` for `user` covers: this account, in this state."""
    return {
        "user_id": user.pk,
        "username": user.get_username(),
        "role": role,
        "role_before": role_of(user),
        "is_active": user.is_active,
    }


def _announce(request_id: int, event: str) -> None:
    from django_q.tasks import async_task

    transaction.on_commit(
        lambda: async_task(ANNOUNCE_TASK, request_id, event, task_name=f"role-{event}-{request_id}")
    )


@transaction.atomic
def role_request_create(*, user: Any, role: str, actor: Any) -> RoleRequest:
    """Ask for `role` (the admin role) for `user`. An identical pending request is returned
    as it is; a request for the account in another state voids the older one."""
    if not actor.has_perm(GRANT_PERMISSION):
        raise PermissionDenied("Only an admin may ask for the admin role for an account.")
    if user.pk is None or not user.is_active:
        raise ValidationError("Only an active account can be given the admin role.")
    bound = _bound(user, role)
    digest, now = change_hash(bound), timezone.now()
    for old in RoleRequest.objects.select_for_update().filter(user=user, status=Status.PENDING):
        if old.change_hash == digest and old.expires_at > now:
            return old
        old.status = Status.VOID
        old.save(update_fields=["status"])
        audit.record(
            action="staff.admin_role_request_void",
            actor=actor,
            target=user,
            data={"request_id": old.pk, "reason": "superseded by a new request"},
        )
    request = RoleRequest.objects.create(
        user=user,
        username=user.get_username(),
        role=role,
        role_before=bound["role_before"],
        bound=bound,
        change_hash=digest,
        requested_by=actor,
        requested_by_name=actor.get_username(),
        requested_at=now,
        expires_at=approval_expiry(ttl=role_request_ttl(), now=now),
    )
    audit.record(
        action="staff.admin_role_requested",
        actor=actor,
        target=user,
        data={
            "request_id": request.pk,
            "role": role,
            "role_before": request.role_before,
            "expires_at": request.expires_at.isoformat(),
        },
    )
    _announce(request.pk, "requested")
    return request


def _what_changed(request: RoleRequest, now_bound: dict) -> str:
    changed = [
        f"{key} {request.bound.get(key)!r} → {value!r}"
        for key, value in now_bound.items()
        if request.bound.get(key) != value
    ]
    return "; ".join(changed) or "the account"


@transaction.atomic
def role_request_decide(
    *,
    request: RoleRequest,
    actor: Any,
    approve: bool,
    comment: str = "",
    hash_seen: str | None = None,
) -> RoleRequest:
    """Approve (the role is granted at once) or deny a pending request; never the
    requester's own, never after it expired, never for an account that changed since."""
    request = RoleRequest.objects.select_for_update().get(pk=request.pk)
    approval_decision_check(
        approval=request,
        actor=actor,
        permission=GRANT_PERMISSION,
        bound_hash=request.change_hash,
        hash_seen=hash_seen,
    )
    user = get_user_model().objects.select_for_update().get(pk=request.user_id)
    verb = approval_decision_record(
        approval=request,
        actor=actor,
        actor_name=actor.get_username(),
        approve=approve,
        comment=comment,
    )
    data = {
        "request_id": request.pk,
        "role": request.role,
        "role_before": request.role_before,
        "requested_by": request.requested_by_name,
        "comment": request.comment,
    }
    if approve:
        now_bound = _bound(user, request.role)
        refusal = approval_use_refusal(
            approval=request,
            permission=GRANT_PERMISSION,
            bound_hash=request.change_hash,
            current_hash=change_hash(now_bound),
            differs=f"The account changed since the request ({_what_changed(request, now_bound)})"
            "; ask for a new one.",
        )
        if refusal:
            raise ValidationError(refusal)
        role_apply(user=user, role=request.role)
        request.status = Status.USED  # granted: an approval is used once
    request.save()
    audit.record(
        action="staff.admin_role_granted" if approve else "staff.admin_role_denied",
        actor=actor,
        target=user,
        data=data,
    )
    _announce(request.pk, "granted" if approve else verb)
    return request


def role_requests_expire() -> int:
    """Pending requests nobody decided in time become `expired` (the staff tick)."""
    expired = 0
    due = RoleRequest.objects.filter(status=Status.PENDING, expires_at__lte=timezone.now())
    for request_id in due.values_list("pk", flat=True)[:500]:
        with transaction.atomic():
            request = RoleRequest.objects.select_for_update().get(pk=request_id)
            if request.status != Status.PENDING:
                continue
            request.status = Status.EXPIRED
            request.save(update_fields=["status"])
            audit.record(
                action="staff.admin_role_request_expired",
                target_type="auth.user",
                target_id=request.user_id,
                target_repr=request.username,
                data={"request_id": request.pk, "requested_by": request.requested_by_name},
            )
            expired += 1
    return expired
