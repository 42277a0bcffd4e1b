"""The rules every approval obeys, for any approval row (see `approvals.fields`).

Callers keep their own row, permission and wording of "what" is approved (parameters of a
step, an account's role); the checks, their order and their messages are these.
"""

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

PENDING, APPROVED = "pending", "approved"
SELF_APPROVAL = "You cannot approve your own request."


def change_hash(payload: dict) -> str:
    """What an approval is bound to: the SHA-256 of the change's canonical JSON."""
    canonical = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def change_differences(before: dict, after: dict) -> list[str]:
    """What changed between two resolved plans, one "name: old → new" per changed name."""
    return [
        f"{name}: {before.get(name, '(none)')!r} → {after.get(name, '(none)')!r}"
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    ]


def approval_expiry(*, ttl: timedelta, now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + ttl


def approval_decision_check(
    *,
    approval: Any,
    actor: Any,
    permission: str,
    bound_hash: str,
    hash_seen: str | None = None,
    now: datetime | None = None,
) -> None:
    """Raise unless `actor` may decide `approval` now: holds `permission`, is not the
    requester, the request is pending and unexpired, and (when the deciding page sent the
    hash it showed) the change is still the one they reviewed."""
    if not actor.has_perm(permission):
        raise PermissionDenied(f"You need the {permission.split('.', 1)[-1]} permission.")
    if actor.pk == approval.requested_by_id:
        raise PermissionDenied(SELF_APPROVAL)
    if approval.status != PENDING:
        raise ValidationError(f"This request is {approval.status}; nothing to decide.")
    if approval.expires_at <= (now or timezone.now()):
        raise ValidationError("This request has expired; ask for a new one.")
    if hash_seen is not None and hash_seen != bound_hash:
        raise ValidationError("The parameters changed since you reviewed them; review again.")


def approval_decision_record(
    *, approval: Any, actor: Any, actor_name: str, approve: bool, comment: str
) -> str:
    """Write the decision onto the row (the caller saves it); returns "approved"/"denied".
    A denial must say why."""
    comment = (comment or "").strip()
    if not approve and not comment:
        raise ValidationError("Say why you deny the request.")
    approval.status = APPROVED if approve else "denied"
    approval.decided_by = actor
    approval.decided_by_name = actor_name
    approval.decided_at = timezone.now()
    approval.comment = comment[:2000]
    return approval.status


def approval_use_refusal(
    *,
    approval: Any,
    permission: str,
    bound_hash: str,
    current_hash: str,
    differs: str = "the parameters differ from the approved ones",
    now: datetime | None = None,
) -> str | None:
    """Why the approved change may not be carried out now, or None: re-checked at the
    moment of use (a worker, the grant), never trusted from the time of the decision."""
    if approval.status != APPROVED:
        return f"approval #{approval.pk} is {approval.status}"
    if approval.expires_at <= (now or timezone.now()):
        return f"approval #{approval.pk} expired at {approval.expires_at:%Y-%m-%d %H:%M:%S} UTC"
    if current_hash != bound_hash:
        return differs
    if approval.decided_by_id is None or approval.decided_by_id == approval.requested_by_id:
        return SELF_APPROVAL
    if not approval.decided_by.has_perm(permission):
        return "the approver no longer holds the approve permission"
    return None
