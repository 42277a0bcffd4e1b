from django.contrib import admin

from audit.admin import HistoryAdmin
from vouchers.models import Station, Voucher, VoucherEvent


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
    """Vouchers change only through the voucher operations (services), never by form."""

    # Preview button + modal (PNG through the portal, code-view fallback): integrations.
    change_form_template = "integrations/voucher_change_form.html"
    list_display = ["code", "amount", "currency", "status", "expires_at", "redeemed_at", "redeemed_by"]
    list_filter = ["status", "currency"]
    search_fields = ["=code"]
    list_select_related = ["redeemed_by"]
    show_full_result_count = False
    readonly_fields = [
        "code", "amount", "currency", "status", "scope", "expires_at",
        "redeemed_at", "redeemed_by", "replaced_by", "created_at",
    ]
    fields = readonly_fields
    inlines = [VoucherEventInline]

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
    readonly_fields = ["voucher", "kind", "station", "actor_name", "data", "at"]
    fields = readonly_fields
