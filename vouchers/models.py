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

    # Indexed by voucherevent_voucher_at (voucher, at); a second index is write cost only.
    voucher = models.ForeignKey(
        Voucher, on_delete=models.PROTECT, related_name="events", db_index=False
    )
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


class RedeemOutcome(models.TextChoices):
    """What one call of POST /api/station/redeem came to (the attempt log's outcome)."""

    REDEEMED = "redeemed"
    REPLAYED = "replayed"
    ALREADY_REDEEMED = "already_redeemed"
    NOT_FOUND = "not_found"
    OUT_OF_SCOPE = "out_of_scope"
    VOUCHER_VOID = "voucher_void"
    VOUCHER_EXPIRED = "voucher_expired"
    REQUEST_IN_PROGRESS = "request_in_progress"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    INVALID_REQUEST = "invalid_request"
    UNAUTHORIZED = "unauthorized"
    RATE_LIMITED = "rate_limited"


# "Check the redeem logs for idempotency failures" (runbook): these outcomes.
IDEMPOTENCY_FAILURES = (
    RedeemOutcome.IDEMPOTENCY_KEY_REUSED,
    RedeemOutcome.REQUEST_IN_PROGRESS,
)


class RedeemAttempt(models.Model):
    """Every call of the redeem API, accepted or not. Never holds the station token.

    Written by the redeem statement itself (vouchers/redeem_sql.py), append-only.
    `station` is empty when the caller could not be authenticated.
    """

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField()
    station = models.ForeignKey(  # indexed by redeemattempt_station_id (station, -id)
        Station, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    idempotency_key = models.CharField(max_length=255, blank=True)
    code = models.CharField(max_length=64, blank=True)
    reference = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=32, choices=RedeemOutcome.choices)
    http_status = models.PositiveSmallIntegerField()
    # Server time from the request reaching the view to the decision, in milliseconds.
    latency_ms = models.FloatField()
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["outcome", "-id"], name="redeemattempt_outcome_id"),
            models.Index(fields=["station", "-id"], name="redeemattempt_station_id"),
            models.Index(fields=["code", "-id"], name="redeemattempt_code_id"),
            models.Index(fields=["at"], name="redeemattempt_at"),
            models.Index(fields=["idempotency_key"], name="redeemattempt_key"),
        ]

    def __str__(self) -> str:
        return f"#{self.id} {self.outcome}"


class IdempotencyRecord(models.Model):
    """The stored answer to (station, Idempotency-Key), replayed for the same body.

    Only final answers are stored (never 400/401/429/in-progress); purged after
    REDEEM_IDEMPOTENCY_RETENTION_DAYS by a scheduled task.
    """

    id = models.BigAutoField(primary_key=True)
    # Indexed by the unique (station, key) constraint.
    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="+", db_index=False)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # SHA-256 of the canonical request body
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["station", "key"], name="idempotency_station_key"),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_at")]

    def __str__(self) -> str:
        return f"{self.station_id}:{self.key}"


class RedeemRateWindow(models.Model):
    """Per-station request counter for one fixed window (shared by every process)."""

    id = models.BigAutoField(primary_key=True)
    # Indexed by the unique (station, window_start) constraint.
    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="+", db_index=False)
    window_start = models.DateTimeField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["station", "window_start"], name="ratewindow_station_window"
            ),
        ]
        indexes = [models.Index(fields=["window_start"], name="ratewindow_window_start")]

    def __str__(self) -> str:
        return f"{self.station_id}@{self.window_start:%H:%M} {self.hits}"


class PreviewFailure(models.Model):
    """A voucher preview that showed no image (the runbook's error code): what support saw
    while previews were failing, for the postmortem. One row per failed preview request."""

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(db_index=True)
    code = models.CharField(max_length=64)
    error = models.CharField(max_length=32)  # not_configured | timeout | upstream_error | degraded
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    provider_code = models.CharField(max_length=64, blank=True)
    actor_name = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.at:%H:%M:%S} {self.code}: {self.error}"
