"""Paging records: the pages we send (PagerDuty, Slack), the links between incidents, and
what PagerDuty's webhooks told us (each event once) or tried to (refusals, counted)."""

from django.db import models

from incidents.models.fields import person
from incidents.models.incident import Incident


class IncidentPage(models.Model):
    """One notification to one provider about one incident event: our own delivery record
    (status, attempts, last error), unique per incident, provider, event and round, so a
    detector race or a re-run never sends the same page twice."""

    class Provider(models.TextChoices):
        PAGERDUTY = "pagerduty", "PagerDuty"
        SLACK = "slack", "Slack"

    class Event(models.TextChoices):
        TRIGGER = "trigger"
        ACKNOWLEDGE = "acknowledge"
        RESOLVE = "resolve"
        POST = "post"  # a Slack message

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        RETRYING = "retrying"
        SENT = "sent"
        FAILED = "failed"  # gave up: permanent refusal or out of attempts

    UNFINISHED = (Status.PENDING, Status.SENDING, Status.RETRYING)

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="pages")
    provider = models.CharField(max_length=16, choices=Provider.choices)
    event = models.CharField(max_length=16, choices=Event.choices)
    round = models.PositiveSmallIntegerField(default=0)  # Incident.reopened_count when made
    text = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    reference = models.CharField(max_length=255, blank=True)  # dedup key, Slack ts
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["incident", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "provider", "event", "round"], name="page_once_per_round"
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="page_status_next")]

    def __str__(self) -> str:
        return f"{self.provider} {self.event} for #{self.incident_id} ({self.status})"


class IncidentLink(models.Model):
    """Two incidents about one thing: related (both stay), or merged (the source is closed
    and points at the target, the survivor)."""

    class Kind(models.TextChoices):
        RELATED = "related"
        MERGED = "merged"

    source = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="links_out")
    target = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="links_in")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    created_at = models.DateTimeField()
    created_by = person()
    created_by_name = models.CharField(max_length=150)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "target"], name="link_once"),
            models.CheckConstraint(
                condition=~models.Q(source=models.F("target")), name="link_not_to_itself"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.source_id} {self.kind} #{self.target_id}"


class PagerDutyWebhookEvent(models.Model):
    """Every signed PagerDuty webhook event we accepted, once: its id is unique, so a
    repeated delivery (or a replay of a captured one) changes nothing."""

    event_id = models.CharField(max_length=100, unique=True)
    event_type = models.CharField(max_length=64)
    occurred_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField()
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(max_length=32)  # applied | unknown_incident | ignored
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} ({self.outcome})"


class WebhookRefusal(models.Model):
    """Refused webhook deliveries counted per source, reason and time window: the first of
    a window is audited, the rest only counted, so nobody can grow the audit log at will."""

    source = models.CharField(max_length=32)
    reason = models.CharField(max_length=32)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)
    last_at = models.DateTimeField()

    class Meta:
        ordering = ["-window_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "reason", "window_start"], name="refusal_one_row_per_window"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.reason} ×{self.count} from {self.window_start:%H:%M}"
