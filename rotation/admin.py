"""Admin: the Supabase projects registry, and key rotations (start, dry run, resume, cancel).

Approving a rotation happens where every risky step is approved: on the incident page
(incidents.engine.approvals). The leaked key is typed once into the start form.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from audit.admin import HistoryAdmin
from incidents.models import Approval, Incident
from rotation.models import RotationRun, RotationStep, RotationTarget, SupabaseProject
from rotation.services import (
    REQUEST_PERMISSION,
    rotation_cancel,
    rotation_outcome_unknown,
    rotation_prepare,
    rotation_request,
)


@admin.register(SupabaseProject)
class SupabaseProjectAdmin(admin.ModelAdmin):
    list_display = [
        "environment",
        "project_ref",
        "primary_owner",
        "owner_email",
        "owner_slack",
        "service_role_secret_id",
        "vercel_project",
    ]
    fieldsets = [
        (None, {"fields": ["environment", "project_ref"]}),
        ("Primary owner", {"fields": ["primary_owner", "owner_email", "owner_slack"]}),
        (
            "Where the service-role key lives and is used",
            {
                "fields": [
                    "service_role_secret_id",
                    "vercel_project",
                    "vercel_env_vars",
                    "vercel_targets",
                    "function_secret_names",
                    "edge_functions",
                ]
            },
        ),
    ]

    def has_delete_permission(self, request, obj=None):
        return False  # past rotations refer to the project


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("rotation.view_rotationrun")


def clock(moment) -> str:
    """The portal's `clock` filter (to the second, UTC on hover), by name: no app imports the
    wiring (opsportal), templates load its filters."""
    if moment is None:
        return ""
    return engines["django"].from_string("{% load portal %}{{ v|clock }}").render({"v": moment})


class RotationStepInline(_ReadOnlyInline):
    model = RotationStep
    fields = readonly_fields = [
        "number",
        "step",
        "status",
        "detail",
        "attempts",
        "started",
        "ended",
    ]

    @admin.display(description="Step")
    def step(self, obj):
        return obj.name  # the step by what it does, not its internal key

    @admin.display(description="Started")
    def started(self, obj):
        return clock(obj.started_at) or "—"  # to the second, exact UTC on hover

    @admin.display(description="Ended")
    def ended(self, obj):
        return clock(obj.finished_at) or "—"


class RotationTargetInline(_ReadOnlyInline):
    model = RotationTarget
    verbose_name_plural = "Which target holds which key (by fingerprint)"
    fields = readonly_fields = ["kind", "name", "fingerprint", "state", "existed", "updated_at"]


class RotationStartForm(forms.Form):
    project = forms.ModelChoiceField(queryset=SupabaseProject.objects.all())
    leaked_key = forms.CharField(
        label="Leaked service-role key",
        strip=True,
        # PasswordInput never renders the submitted value back into the page.
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "size": 60}),
        help_text="Used once to compute its fingerprint; never stored or shown.",
    )
    leaked_key_id = forms.CharField(
        label="Leaked key id",
        required=False,
        max_length=100,
        help_text="For sb_secret_… keys: the id in the Supabase dashboard (API keys), needed "
        "to revoke it. Leave empty for a legacy JWT key.",
    )


@admin.register(RotationRun)
class RotationRunAdmin(HistoryAdmin):
    list_display = [
        "id",
        "incident",
        "project",
        "status",
        "failed_step",
        "leaked_fingerprint",
        "new_fingerprint",
        "rotated_at",
        "prepared_by_name",
    ]
    list_filter = ["status"]
    list_select_related = ["incident", "project"]
    readonly_fields = [
        "incident",
        "project",
        "status",
        "failed_step",
        "error",
        "leaked_fingerprint",
        "leaked_kind",
        "leaked_key_id",
        "new_fingerprint",
        "prepared_by_name",
        "created_at",
        "started_at",
        "finished_at",
        "rotated_at",
    ]
    fields = readonly_fields
    inlines = [RotationStepInline, RotationTargetInline]

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "start/<int:incident_id>/",
                wrap(self.start_view),
                name="rotation_rotationrun_start",
            ),
            path("<int:pk>/act/", wrap(self.act_view), name="rotation_rotationrun_act"),
            *super().get_urls(),
        ]

    @method_decorator(sensitive_variables("form", "request"))
    @method_decorator(sensitive_post_parameters("leaked_key"))
    def start_view(self, request, incident_id: int):
        if not request.user.has_perm(REQUEST_PERMISSION):
            raise PermissionDenied
        incident = get_object_or_404(Incident, pk=incident_id)
        form = RotationStartForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                run = rotation_prepare(
                    incident=incident,
                    project=form.cleaned_data["project"],
                    leaked_key=form.cleaned_data["leaked_key"],
                    leaked_key_id=form.cleaned_data["leaked_key_id"],
                    actor=request.user,
                )
                approval = rotation_request(run=run, actor=request.user)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _requested(run, approval))
                return redirect(reverse("admin:rotation_rotationrun_change", args=[run.pk]))
        return TemplateResponse(
            request,
            "rotation/rotation_start.html",
            {
                **self.admin_site.each_context(request),
                "form": form,
                "incident": incident,
                "title": f"Rotate a Supabase service-role key (incident #{incident.pk})",
                "opts": self.model._meta,
            },
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Resuming after a lost worker needs "I checked: run again" (incidents.services).
        run = RotationRun.objects.filter(pk=object_id).first() if object_id.isdigit() else None
        unknown = run is not None and rotation_outcome_unknown(run)
        extra = {**(extra_context or {}), "step_outcome_unknown": unknown}
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def act_view(self, request, pk: int):
        run = get_object_or_404(RotationRun, pk=pk)
        if request.method != "POST":
            return redirect(reverse("admin:rotation_rotationrun_change", args=[pk]))
        op = request.POST.get("op")
        try:
            if op == "dry_run":
                rotation_request(run=run, actor=request.user, dry_run=True)
                messages.info(
                    request,
                    "Dry run queued: its log on the incident page lists every call, keys masked.",
                )
            elif op == "resume":
                confirmed = request.POST.get("confirm_rerun") == "yes"  # after a lost worker
                result = rotation_request(run=run, actor=request.user, confirm_rerun=confirmed)
                messages.success(request, _requested(run, result))
            elif op == "cancel":
                rotation_cancel(run=run, actor=request.user, reason=request.POST.get("reason"))
                messages.success(request, f"Rotation #{run.pk} cancelled.")
            else:
                messages.error(request, "Unknown operation.")
        except (PermissionDenied, ValidationError) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect(reverse("admin:rotation_rotationrun_change", args=[pk]))


def _requested(run: RotationRun, result) -> str:
    if isinstance(result, Approval):
        return (
            f"Rotation #{run.pk}: approval #{result.pk} requested. A second admin approves "
            f"it on incident #{run.incident_id}'s page before "
            f"{result.expires_at:%H:%M} UTC."
        )
    return f"Rotation #{run.pk}: run #{result.pk} queued."
