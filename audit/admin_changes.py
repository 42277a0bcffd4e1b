"""Every add, change and delete made through any admin page is audited, field by field.

One mechanism for the whole admin site: the site (`opsportal.admin_site`) mixes
`AuditedChangesMixin` into every ModelAdmin it registers, ours and third-party ones alike.
Django's admin saves a form, then calls `construct_change_message` and
`log_addition`/`log_change` inside the transaction of the save (`changeform_view`,
list_editable); the diff is taken from the form there (`changed_data`, before = the
form's initial values, after = the cleaned ones) and written by `audit.record` in that same
transaction. Deletes are audited in `delete_model`/`delete_queryset`, in one transaction
with the delete. Secret and hash fields are masked by `audit.record`'s redaction (their
names say so: `password…`, `token_hash`, `…secret…`).

Changes made by admin actions and custom pages go through services, which audit them.
"""

import datetime
import decimal
import uuid
from typing import Any

from django import forms
from django.db import models, transaction

import audit

ADDED, CHANGED, DELETED = "admin.added", "admin.changed", "admin.deleted"


def _plain(value: Any) -> Any:
    """A JSON-safe rendering of a form or model value."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, models.Model):
        return {"id": value.pk, "repr": str(value)[:200]}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, models.QuerySet | list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID | datetime.timedelta):
        return str(value)
    return str(value)[:1000]


def _before(form: forms.BaseForm, name: str) -> Any:
    value = form[name].initial
    field = form.fields[name]
    # The form's initial value of a foreign key is its id: show the object, as "after" does.
    if isinstance(field, forms.ModelChoiceField) and not isinstance(
        field, forms.ModelMultipleChoiceField
    ):
        if value not in (None, "") and not isinstance(value, models.Model):
            value = field.queryset.filter(pk=value).first() or value
    return value


def form_changes(form: forms.BaseForm, *, add: bool, exclude=()) -> dict[str, dict]:
    """{field: {"before": …, "after": …}} for every field the form changed."""
    changes = {}
    for name in form.changed_data:
        if name in exclude or name not in form.fields:
            continue
        after = form.cleaned_data.get(name)
        changes[name] = {
            "before": None if add else _plain(_before(form, name)),
            "after": _plain(after),
        }
    return changes


def _inline_changes(formsets) -> list[dict]:
    found = []
    for formset in formsets or ():
        label = formset.model._meta.label_lower
        for form in getattr(formset, "forms", ()):
            if not getattr(form, "cleaned_data", None):
                continue
            instance = form.instance
            if formset.can_delete and formset._should_delete_form(form):
                found.append({"model": label, "id": instance.pk, "deleted": str(instance)[:200]})
            elif form.has_changed():
                found.append(
                    {
                        "model": label,
                        "id": instance.pk,
                        "changes": form_changes(form, add=instance._state.adding),
                    }
                )
    return found


def _snapshot(obj: models.Model) -> dict[str, Any]:
    """What a deleted object held (concrete fields), for its audit entry."""
    return {f.name: _plain(f.value_from_object(obj)) for f in obj._meta.concrete_fields}


class AuditedChangesMixin:
    """Mixed into every registered ModelAdmin by the site; see the module docstring.

    `audit_exclude_fields`: form fields a service called by the admin audits itself
    (e.g. the account form's role picker), so they are not reported twice."""

    audit_exclude_fields: tuple[str, ...] = ()

    def construct_change_message(self, request, form, formsets, add=False):
        request._audit_changes = {
            "changes": form_changes(form, add=add, exclude=self.audit_exclude_fields),
            "inlines": _inline_changes(formsets),
        }
        return super().construct_change_message(request, form, formsets, add)

    def _audit(self, request, obj: models.Model, action: str, data: dict) -> None:
        audit.record(
            action=action,
            actor=request.user,
            target=obj,
            data={"model": obj._meta.label_lower, **data},
        )

    def log_addition(self, request, obj, message):
        diff = getattr(request, "_audit_changes", None) or {}
        request._audit_changes = None
        self._audit(request, obj, ADDED, {k: v for k, v in diff.items() if v})
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        diff = {k: v for k, v in (getattr(request, "_audit_changes", None) or {}).items() if v}
        request._audit_changes = None
        if diff:  # "Save" without a change changes nothing: no entry
            self._audit(request, obj, CHANGED, diff)
        return super().log_change(request, obj, message)

    def delete_model(self, request, obj):
        with transaction.atomic(using=obj._state.db):
            self._audit(request, obj, DELETED, {"fields": _snapshot(obj)})
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic(using=queryset.db):
            for obj in queryset:
                self._audit(request, obj, DELETED, {"fields": _snapshot(obj)})
            super().delete_queryset(request, queryset)
