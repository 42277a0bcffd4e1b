import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

E164_REGEX = r"^\+[1-9][0-9]{6,14}$"
E164 = RegexValidator(E164_REGEX, "Phone numbers must be in E.164 form, e.g. +250788123456.")


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone (e.g. Africa/Kigali).")


class Campaign(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft"
        RUNNING = "running"
        PAUSED = "paused"
        COMPLETED = "completed"

    name = models.CharField(max_length=200)
    template = models.CharField(max_length=200, help_text="WhatsApp template name")
    template_language = models.CharField(max_length=16, default="en")
    template_variables = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    throttle_per_minute = models.PositiveIntegerField(
        default=600, validators=[MinValueValidator(1)]
    )
    quiet_hours_start = models.TimeField(null=True, blank=True)
    quiet_hours_end = models.TimeField(null=True, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    last_progress_at = models.DateTimeField(null=True, blank=True)
    # Campaign-wide backoff after a throttling answer (Retry-After or exponential default).
    backoff_until = models.DateTimeField(null=True, blank=True)
    backoff_level = models.PositiveSmallIntegerField(default=0)
    # The provider's Retry-After (seconds) behind the current backoff; None when the wait is
    # our own exponential one. Shown as "backing off until 10:42 (provider asked for 60 s)".
    backoff_retry_after = models.FloatField(null=True, blank=True)
    # The last Retry-After the WhatsApp function returned for this campaign, kept after the
    # backoff ends: the runbook's reschedule step (3.1) starts from it.
    provider_retry_after = models.FloatField(null=True, blank=True)
    provider_retry_after_at = models.DateTimeField(null=True, blank=True)
    # When the dispatcher next intends to send (quiet hours end, backoff end, next retry).
    next_send_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        permissions = [
            ("control_campaign", "Can start, stop and replay campaigns"),
            ("export_targets", "Can export failed and invalid targets"),
            ("send_test_message", "Can send a test message of a campaign"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(throttle_per_minute__gt=0), name="campaign_throttle_positive"
            ),
            models.CheckConstraint(
                condition=Q(quiet_hours_start__isnull=True, quiet_hours_end__isnull=True)
                | Q(quiet_hours_start__isnull=False, quiet_hours_end__isnull=False),
                name="campaign_quiet_hours_both_or_neither",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Target(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"
        INVALID = "invalid"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="targets")
    phone = models.CharField(max_length=16, validators=[E164])
    variables = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=128, blank=True)
    last_error_code = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "phone"], name="target_unique_phone"),
            models.CheckConstraint(condition=Q(phone__regex=E164_REGEX), name="target_phone_e164"),
        ]
        indexes = [
            models.Index(
                fields=["campaign", "status", "next_attempt_at"], name="target_dispatch_queue"
            )
        ]

    def __str__(self) -> str:
        return f"{self.phone} ({self.status})"


class DispatchLease(models.Model):
    """Who dispatches a campaign right now. A holder renews `expires_at` while it works.
    On PostgreSQL the lease itself is a session advisory lock (campaigns/session_lease.py)
    that a crashed holder loses at once; this row names the holder (and fences it off when
    it names someone else). On SQLite the row is the lease and a crashed one expires."""

    campaign = models.OneToOneField(
        Campaign, on_delete=models.CASCADE, primary_key=True, related_name="lease"
    )
    holder = models.CharField(max_length=200, blank=True)
    expires_at = models.DateTimeField()
    acquired_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.campaign_id} held by {self.holder or '-'} until {self.expires_at}"


class WorkerHeartbeat(models.Model):
    """Last sign of life of a dispatcher worker (slices and the watchdog schedule write it)."""

    worker = models.CharField(max_length=200, unique=True)
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.worker} @ {self.seen_at}"


class SendResult(models.Model):
    """One send attempt and what came of it: the Notifications page and failure rate."""

    class Outcome(models.TextChoices):
        SENT = "sent"
        RESCHEDULED = "rescheduled"  # throttled: tried again later, not a failure of the target
        RETRY = "retry"  # 5xx/timeout, will be retried
        FAILED = "failed"
        INVALID = "invalid"

    at = models.DateTimeField(db_index=True)
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="send_results", null=True, blank=True
    )
    target = models.ForeignKey(Target, on_delete=models.SET_NULL, null=True, blank=True)
    phone = models.CharField(max_length=16)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    error_code = models.CharField(max_length=64, blank=True)
    message_id = models.CharField(max_length=128, blank=True)
    is_test = models.BooleanField(default=False)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["campaign", "-id"], name="sendresult_campaign_recent")]

    def __str__(self) -> str:
        return f"{self.phone} {self.outcome} {self.error_code}".strip()
