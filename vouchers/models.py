from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

STATION_CODE = RegexValidator(r"^[A-Z0-9][A-Z0-9_-]{0,31}$", "Upper-case letters, digits, - and _.")
CURRENCY = RegexValidator(r"^[A-Z]{3}$", "A three-letter ISO 4217 code, e.g. RWF.")


class Station(models.Model):
    """A fuel station. Its API token is shown once when issued; only the SHA-256 is kept."""

    code = models.CharField(max_length=32, unique=True, validators=[STATION_CODE])
    name = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    token_hash = models.CharField(max_length=64, unique=True, null=True, editable=False)
    token_issued_at = models.DateTimeField(null=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class Voucher(models.Model):
    class Status(models.TextChoices):
        ISSUED = "issued"
        REDEEMED = "redeemed"
        VOID = "void"
        EXPIRED = "expired"

    code = models.CharField(max_length=64, unique=True)
    amount = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator("0.01")]
    )
    currency = models.CharField(max_length=3, validators=[CURRENCY])
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ISSUED)
    # Empty scope = any active station may redeem it.
    station_scope = models.ManyToManyField(Station, blank=True, related_name="scoped_vouchers")
    expires_at = models.DateTimeField(null=True, blank=True)
    redeemed_at = models.DateTimeField(null=True, blank=True)
    redeemed_by = models.ForeignKey(
        Station, null=True, blank=True, on_delete=models.PROTECT, related_name="redemptions"
    )
    replaced_by = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaces"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        permissions = [
            ("operate_voucher", "Can void, replace and re-scope vouchers"),
            ("preview_voucher", "Can preview voucher images"),
        ]
        indexes = [models.Index(fields=["status", "-id"], name="voucher_status_id")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="voucher_amount_positive"),
            models.CheckConstraint(
                condition=~Q(status="redeemed")
                | Q(redeemed_at__isnull=False, redeemed_by__isnull=False),
                name="voucher_redeemed_has_time_and_station",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class VoucherEvent(models.Model):
    """What happened to a voucher. Append-only: written by services, never edited."""

    class Kind(models.TextChoices):
        ISSUED = "issued"
        REDEEMED = "redeemed"
        VOIDED = "voided"
        REPLACED = "replaced"
        REPLACEMENT_ISSUED = "replacement_issued"
        SCOPE_CHANGED = "scope_changed"

    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    station = models.ForeignKey(
        Station, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_name = models.CharField(max_length=150, blank=True)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["voucher", "at"], name="voucherevent_voucher_at")]

    def __str__(self) -> str:
        return f"{self.voucher_id} {self.kind}"
