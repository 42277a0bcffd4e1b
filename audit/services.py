from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils import timezone

from audit.context import request_id_var
from audit.models import AuditEntry
from audit.redaction import mask_text, redact
from audit.verify_export import FIELDS

SYSTEM_ACTOR = "system"
# What an entry holds, in the chain's canonical order (the one list: audit/verify_export.py's
# FIELDS, which the offline verifier, the sealer and the export read too); `id` is the
# database's own.
COLUMNS = tuple(name for name in FIELDS if name != "id")


class Sql(str):
    """A value that is an SQL expression of the caller's statement (e.g. `d.vcode`)."""


class Param(str):
    """A `data` value bound per entry as the caller's statement parameter of this name."""


@dataclass(frozen=True)
class RawAuditInsert:
    """An audit entry written by the caller's own SQL statement (see `audit_raw_insert`)."""

    sql: str
    _data_params: dict[str, str]  # data key → parameter name

    def params(self, **data: Any) -> dict[str, Any]:
        """The statement's parameters for one entry, redacted as `audit_record` redacts."""
        redacted = redact(data)
        return {self._data_params[key]: redacted[key] for key in self._data_params}


def _sql_value(value: Any) -> str:
    if isinstance(value, Param):
        return f"%({value})s::text"
    if isinstance(value, Sql):
        return value
    return "'" + str(value).replace("'", "''") + "'"


def audit_raw_insert(*, source: str, data: dict[str, Any], **columns: Any) -> RawAuditInsert:
    """`INSERT INTO <audit table> (…) SELECT … FROM <source>` for the one caller whose entry
    must be part of its own statement (the station redeem: one round trip per request),
    and the builder of that statement's parameters.

    `columns` are entry columns (COLUMNS; the rest stay empty): plain values become SQL
    literals, `Sql(...)` values are used as they are. `data` becomes a JSON object whose
    values are `Sql(...)` expressions or `Param(name)` parameters; `.params(key=value…)`
    gives those parameters with secrets redacted. The row is inserted unsealed and the
    sealer links it like any other.
    """
    unknown = set(columns) - set(COLUMNS)
    if unknown or "data" in columns:
        raise TypeError(f"not audit columns: {sorted(unknown | ({'data'} & set(columns)))}")
    pairs = ", ".join(f"'{key}', {_sql_value(value)}" for key, value in data.items())
    values = {**columns, "data": Sql(f"jsonb_build_object({pairs})")}
    names = [name for name in COLUMNS if name in values]
    sql = (
        f"INSERT INTO {AuditEntry._meta.db_table} ({', '.join(names)})"
        f" SELECT {', '.join(_sql_value(values[name]) for name in names)} FROM {source}"
    )
    params = {key: str(value) for key, value in data.items() if isinstance(value, Param)}
    return RawAuditInsert(sql=sql, _data_params=params)


def _target_fields(target: models.Model | None) -> dict[str, str]:
    if target is None:
        return {}
    return {
        "target_type": target._meta.label_lower,
        "target_id": str(target.pk),
        # Masked before it is cut: a cut credential would no longer look like one.
        "target_repr": mask_text(str(target))[:200],
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
        "target_repr": mask_text(target_repr)[:200],
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
