"""Admin pages for the Station Redeem runbook's voucher operations.

One confirmation page serves the changelist actions (several vouchers) and the
per-voucher buttons on the review page. The rules (permission, reason) live in
the services; these pages only parse, confirm and report.
"""

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse

from vouchers.models import Station
from vouchers.services import (
    MAX_REASON_LENGTH,
    OPERATE_PERMISSION,
    voucher_scope_set,
    voucher_void,
    voucher_void_and_replace,
)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=MAX_REASON_LENGTH,
        help_text="Required. Stored in the voucher's events and the audit log.",
    )


class ScopeForm(ReasonForm):
    stations = forms.ModelMultipleChoiceField(
        queryset=Station.objects.order_by("code"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="No station ticked = any station may redeem.",
    )


@dataclass(frozen=True)
class Operation:
    title: str
    explanation: str
    button: str
    form: type[forms.Form]

    def run(self, voucher, data: dict[str, Any], actor):
        raise NotImplementedError


class VoidOperation(Operation):
    def run(self, voucher, data, actor):
        voucher_void(voucher=voucher, reason=data["reason"], actor=actor)
        return f"{voucher.code} is void."


class ReplaceOperation(Operation):
    def run(self, voucher, data, actor):
        new = voucher_void_and_replace(voucher=voucher, reason=data["reason"], actor=actor)
        return f"{voucher.code} is void; its replacement is {new.code}."


class ScopeOperation(Operation):
    def run(self, voucher, data, actor):
        voucher_scope_set(
            voucher=voucher, stations=list(data["stations"]), actor=actor, reason=data["reason"]
        )
        codes = ", ".join(s.code for s in data["stations"]) or "any station"
        return f"{voucher.code} may now be redeemed at: {codes}."


OPERATIONS: dict[str, Operation] = {
    "void": VoidOperation(
        title="Void vouchers",
        explanation="A void voucher can no longer be redeemed. This cannot be undone.",
        button="Yes, void",
        form=ReasonForm,
    ),
    "replace": ReplaceOperation(
        title="Void and replace vouchers",
        explanation=(
            "Each voucher becomes void and a new voucher with the same amount, currency, "
            "station scope and expiry is issued in its place (the answer to a double "
            "redemption). The new code is shown once done."
        ),
        button="Yes, void and issue replacements",
        form=ReasonForm,
    ),
    "scope": ScopeOperation(
        title="Change station scope",
        explanation="Sets which stations may redeem these vouchers (the answer to a scope mismatch).",
        button="Yes, set the scope",
        form=ScopeForm,
    ),
}


def operation_page(modeladmin, request, vouchers, op_name: str, *, action: str = ""):
    """The confirmation page (GET or first action POST); performs on a confirmed POST.

    Returns None once done (the caller redirects), else the page to render.
    """
    if not request.user.has_perm(OPERATE_PERMISSION):
        raise PermissionDenied
    op = OPERATIONS[op_name]
    vouchers = list(vouchers)
    confirmed = request.method == "POST" and request.POST.get("confirm") == "yes"
    form = op.form(request.POST if confirmed else None)
    if confirmed and form.is_valid():
        for voucher in vouchers:
            try:
                note = op.run(voucher, form.cleaned_data, request.user)
            except (ValidationError, PermissionDenied) as exc:
                modeladmin.message_user(request, f"{voucher.code}: {exc}", messages.ERROR)
            else:
                modeladmin.message_user(request, note, messages.SUCCESS)
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": op.title,
        "operation": op,
        "vouchers": vouchers,
        "form": form,
        "action": action,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "opts": modeladmin.model._meta,
    }
    return TemplateResponse(request, "vouchers/operate.html", context)


def _action(op_name: str, description: str):
    @admin.action(description=description, permissions=["operate"])
    def run(modeladmin, request, queryset):
        return operation_page(modeladmin, request, queryset, op_name, action=f"{op_name}_action")

    run.__name__ = f"{op_name}_action"
    return run


void_action = _action("void", "Void selected vouchers…")
replace_action = _action("replace", "Void and replace selected vouchers…")
scope_action = _action("scope", "Change station scope of selected vouchers…")
