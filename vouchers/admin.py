from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html

from audit.admin import HistoryAdmin
from vouchers import admin_operations as ops
from vouchers.models import IDEMPOTENCY_FAILURES, RedeemAttempt, Station, Voucher, VoucherEvent
from vouchers.selectors import REVIEW_ATTEMPTS_LIMIT, voucher_review_get
from vouchers.services import OPERATE_PERMISSION
from vouchers.views import voucher_preview_view


class BoundedCountPaginator(Paginator):
    """Counts at most CAP rows (LIMIT inside the COUNT): the log grows without bound."""

    CAP = 10_000

    @cached_property
    def count(self):
        return self.object_list[: self.CAP + 1].count()


@admin.register(Station)
class StationAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "active", "token_issued_at", "created_at"]
    list_filter = ["active"]
    search_fields = ["=code", "name"]
    readonly_fields = ["token_issued_at", "created_at"]
    fields = ["code", "name", "active", "token_issued_at", "created_at"]

    def has_add_permission(self, request):
        return False  # `manage.py create_station` issues the token and shows it once

    def has_delete_permission(self, request, obj=None):
        return False  # redemptions point at stations; deactivate instead

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "code"] if obj else self.readonly_fields


class VoucherEventInline(admin.TabularInline):
    model = VoucherEvent
    fields = ["at", "kind", "station", "actor_name", "data"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["at", "id"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Voucher)
class VoucherAdmin(admin.ModelAdmin):
    """Vouchers change only through the voucher operations (services), never by form.

    The change form (admin/vouchers/voucher/change_form.html) adds the Review button and
    the Preview button + modal (the PNG through the portal, the code view as fallback)."""

    list_display = [
        "code",
        "amount",
        "currency",
        "status",
        "expires_at",
        "redeemed_at",
        "redeemed_by",
        "review_link",
    ]
    list_filter = ["status", "currency"]
    search_fields = ["=code"]
    list_select_related = ["redeemed_by"]
    show_full_result_count = False
    paginator = BoundedCountPaginator
    readonly_fields = [
        "code",
        "amount",
        "currency",
        "status",
        "scope",
        "expires_at",
        "redeemed_at",
        "redeemed_by",
        "replaced_by",
        "created_at",
    ]
    fields = readonly_fields
    inlines = [VoucherEventInline]
    actions = [ops.void_action, ops.replace_action, ops.scope_action]

    def has_operate_permission(self, request):
        return request.user.has_perm(OPERATE_PERMISSION)

    @admin.display(description="Review")
    def review_link(self, obj):
        return format_html(
            '<a href="{}">review</a>', reverse("admin:vouchers_voucher_review", args=[obj.pk])
        )

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("preview/", wrap(voucher_preview_view), name="vouchers_voucher_preview"),
            path("<int:pk>/review/", wrap(self.review_view), name="vouchers_voucher_review"),
            path(
                "<int:pk>/operate/<str:op>/",
                wrap(self.operate_view),
                name="vouchers_voucher_operate",
            ),
            *super().get_urls(),
        ]

    def _voucher_or_404(self, pk):
        voucher = Voucher.objects.filter(pk=pk).first()
        if voucher is None:
            raise Http404("No such voucher.")
        return voucher

    def review_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        self._voucher_or_404(pk)
        review = voucher_review_get(voucher_id=pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Review {review.voucher.code}",
            "opts": self.model._meta,
            "voucher": review.voucher,
            "scope": review.scope,
            "replaces": review.replaces,
            "events": review.events,
            "attempts": review.attempts,
            "attempts_limit": REVIEW_ATTEMPTS_LIMIT,
            "can_operate": self.has_operate_permission(request),
            "operations": list(ops.OPERATIONS.items()),
        }
        return TemplateResponse(request, "vouchers/review.html", context)

    def operate_view(self, request, pk, op):
        if op not in ops.OPERATIONS:
            raise Http404("No such operation.")
        voucher = self._voucher_or_404(pk)
        response = ops.operation_page(self, request, [voucher], op)
        if response is None:
            return redirect("admin:vouchers_voucher_review", pk=pk)
        return response

    @admin.display(description="Station scope")
    def scope(self, obj):
        codes = [s.code for s in obj.station_scope.all()]
        return ", ".join(codes) if codes else "any station"

    def has_add_permission(self, request):
        return False  # `manage.py issue_vouchers`

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(VoucherEvent)
class VoucherEventAdmin(HistoryAdmin):
    list_display = ["at", "voucher", "kind", "station", "actor_name"]
    list_filter = ["kind"]
    search_fields = ["=voucher__code"]
    list_select_related = ["voucher", "station"]
    paginator = BoundedCountPaginator
    readonly_fields = ["voucher", "kind", "station", "actor_name", "data", "at"]
    fields = readonly_fields


class IdempotencyFilter(admin.SimpleListFilter):
    title = "idempotency"
    parameter_name = "idempotency"

    def lookups(self, request, model_admin):
        return [("failures", "Idempotency failures"), ("replays", "Replays")]

    def queryset(self, request, queryset):
        if self.value() == "failures":
            return queryset.filter(outcome__in=IDEMPOTENCY_FAILURES)
        if self.value() == "replays":
            return queryset.filter(outcome="replayed")
        return queryset


@admin.register(RedeemAttempt)
class RedeemAttemptAdmin(HistoryAdmin):
    """The redeem log ("check the redeem logs for idempotency failures" = one filter click)."""

    list_display = [
        "id",
        "at",
        "station",
        "outcome",
        "http_status",
        "idempotency_key",
        "code",
        "reference",
        "latency_ms",
    ]
    list_filter = [
        IdempotencyFilter,
        "outcome",
        "station",
        ("at", admin.DateFieldListFilter),
    ]
    search_fields = ["=idempotency_key", "=code"]
    list_select_related = ["station"]
    ordering = ["-id"]
    paginator = BoundedCountPaginator
    readonly_fields = [f.name for f in RedeemAttempt._meta.fields]
