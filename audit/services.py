from typing import Any

from django.db import models
from django.utils import timezone

from audit.context import request_id_var
from audit.models import AuditEntry
from audit.redaction import redact

SYSTEM_ACTOR = "system"

# For the one caller whose audit row must be part of its own SQL statement (the
# station redeem hot path: one round trip per request). It appends to the same
# table with the same rules: the row is inserted unsealed and the sealer links it
# like any other; the caller must pass values through `redact`/`mask_text` first.
# Its SELECT yields, in order: at, actor_name, action, target_type, target_id,
# target_repr, data (jsonb), request_id.
AUDIT_INSERT_SQL = (
    "INSERT INTO audit_auditentry (at, actor_name, action, target_type, target_id,"
    " target_repr, data, request_id)"
)


def _target_fields(target: models.Model | None) -> dict[str, str]:
    if target is None:
        return {}
    return {
        "target_type": target._meta.label_lower,
        "target_id": str(target.pk),
        "target_repr": str(target)[:200],
    }


def audit_record(
    *,
    action: str,
    actor: Any = None,
    actor_name: str = "",
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    target_repr: str = "",
    incident_id: int | None = None,
    data: dict | None = None,
    request_id: str = "",
) -> AuditEntry:
    """Append one entry. Call it inside the transaction of the change it records.

    `actor` is a user (or None for the system); secrets in `data` are redacted here,
    so no caller can forget to.
    """
    user = actor if getattr(actor, "is_authenticated", False) else None
    fields = {
        "target_type": target_type,
        "target_id": str(target_id),
        "target_repr": target_repr[:200],
        **_target_fields(target),
    }
    return AuditEntry.objects.create(
        at=timezone.now(),
        actor=user,
        actor_name=actor_name or (user.get_username() if user else SYSTEM_ACTOR),
        action=action,
        incident_id=incident_id,
        data=redact(data or {}),
        request_id=request_id or request_id_var.get(),
        **fields,
    )
