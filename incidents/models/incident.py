from django.db import models
from django.db.models import Q

from incidents.models.fields import person

OPEN_STATUSES = ("open", "mitigated")


class IncidentQuerySet(models.QuerySet):
    def open(self) -> "IncidentQuerySet":
        """The one definition of an open incident (open or mitigated, not yet resolved)."""
        return self.filter(status__in=OPEN_STATUSES)


class Incident(models.Model):
    """One incident, worked through one runbook whose steps were copied in when it opened."""

    class Status(models.TextChoices):
        OPEN = "open"
        MITIGATED = "mitigated"
        RESOLVED = "resolved"
        CLOSED = "closed"

    class Severity(models.TextChoices):
        SEV1 = "sev1", "SEV1 — critical"
        SEV2 = "sev2", "SEV2 — major"
        SEV3 = "sev3", "SEV3 — minor"

    runbook_key = models.CharField(max_length=64)
    runbook_title = models.CharField(max_length=200)
    title = models.CharField(max_length=200)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.SEV2)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    # What the incident is about ("campaign:7", "voucher_png"); one open incident per runbook+key.
    dedup_key = models.CharField(max_length=200, blank=True)
    summary = models.TextField(blank=True)
    opened_by = person()
    opened_by_name = models.CharField(max_length=150)
    detected_at = models.DateTimeField()
    opened_at = models.DateTimeField(db_index=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    mitigated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    pagerduty_dedup_key = models.CharField(max_length=255, blank=True, db_index=True)
    # PagerDuty's own id of the incident its alert opened (learnt from its webhooks: a note
    # event names the incident by this id only).
    pagerduty_incident_id = models.CharField(max_length=64, blank=True, db_index=True)
    postmortem_markdown = models.TextField(blank=True)
    # Who runs the incident: assigned by ops/admin, else whoever acknowledged first (a
    # PagerDuty responder has a name only).
    commander = person()
    commander_name = models.CharField(max_length=150, blank=True)
    acknowledged_by_name = models.CharField(max_length=150, blank=True)
    acknowledged_via = models.CharField(max_length=16, blank=True)  # "portal" | "pagerduty"
    # The detector whose finding opened (or was attached to) the incident.
    detector = models.CharField(max_length=64, blank=True)
    # Set while that detector no longer sees the condition; escalation timers wait meanwhile.
    condition_cleared_at = models.DateTimeField(null=True, blank=True)
    timers_paused_at = models.DateTimeField(null=True, blank=True)
    # Bumped when a resolved incident is reopened: each round pages again.
    reopened_count = models.PositiveSmallIntegerField(default=0)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged"
    )

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        permissions = [
            ("run_safe_step", "Can run safe runbook steps (probes, exports)"),
            ("run_operational_step", "Can run operational runbook steps"),
            ("request_risky_step", "Can request risky runbook steps"),
            ("approve_risky_step", "Can approve risky runbook steps"),
            ("export_postmortem", "Can download incident postmortems"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["runbook_key", "dedup_key"],
                condition=Q(status__in=OPEN_STATUSES) & ~Q(dedup_key=""),
                name="incident_one_open_per_subject",
            )
        ]
        indexes = [models.Index(fields=["status", "-id"], name="incident_status_id")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ImpactedObject(models.Model):
    """A voucher, campaign or station the incident touches; generic so no app needs a FK to us."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="impacted")
    object_type = models.CharField(max_length=64)  # model label, e.g. "vouchers.voucher"
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200, blank=True)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "object_type", "object_id"], name="impacted_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.object_type}:{self.object_id}"


class IncidentStep(models.Model):
    """A snapshot of one runbook step, so later edits to the runbook never rewrite this incident."""

    class Kind(models.TextChoices):
        CHECKLIST = "checklist"
        ACTION = "action"
        GATE = "gate"

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        AWAITING_APPROVAL = "awaiting_approval"
        DONE = "done"
        FAILED = "failed"
        SKIPPED = "skipped"
        OUTCOME_UNKNOWN = "outcome_unknown"  # its last run's worker was lost mid-run

    FINISHED = (Status.DONE, Status.SKIPPED)

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField()
    phase = models.CharField(max_length=16)
    number = models.CharField(max_length=8)  # the runbook's own numbering, e.g. "2.1"
    key = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    text = models.TextField()
    action_key = models.CharField(max_length=64, blank=True)
    default_params = models.JSONField(default=dict, blank=True)
    gate_key = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    due_at = models.DateTimeField(null=True, blank=True)
    # A gate's clock: the steps it verifies (its clock starts once they have all run) and
    # its deadline counted from then (incidents.engine.clock).
    clock_after = models.JSONField(default=list, blank=True)
    due_after_seconds = models.PositiveIntegerField(null=True, blank=True)
    # Set when something else did this step's work (e.g. "rotation #3"): it is not run again.
    done_elsewhere = models.CharField(max_length=200, blank=True)
    announced_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_check_detail = models.CharField(max_length=500, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by_name = models.CharField(max_length=150, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["incident", "position"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "position"], name="step_unique_position"),
            models.UniqueConstraint(fields=["incident", "key"], name="step_unique_key"),
        ]
        indexes = [models.Index(fields=["kind", "status"], name="step_kind_status")]

    def __str__(self) -> str:
        return f"{self.number} {self.text[:60]}"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    def lost_run(self):
        """The step's latest real (not dry) run if its worker was lost mid-run (it may have
        acted), else None. Read from the runs, not the step's status, which a skip request,
        a denied or expired approval or a cancelled run moves on."""
        last = self.runs.filter(dry_run=False).order_by("-id").first()
        return last if last is not None and last.status == "outcome_unknown" else None


class TimelineEntry(models.Model):
    """Append-only: written by services, never edited or deleted (the admin is read-only)."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="timeline")
    at = models.DateTimeField()
    kind = models.CharField(max_length=32)
    actor = person()
    actor_name = models.CharField(max_length=150)
    step = models.ForeignKey(
        IncidentStep, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    message = models.TextField()
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["incident", "id"]
        verbose_name_plural = "timeline entries"
        indexes = [models.Index(fields=["incident", "id"], name="timeline_incident_id")]

    def __str__(self) -> str:
        return f"{self.at:%H:%M:%S} {self.actor_name}: {self.message[:60]}"


class IncidentNote(models.Model):
    """A note by support (the runbook's "Logs page" incident note); also echoed to the timeline."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="notes")
    at = models.DateTimeField()
    author = person(blank=False)
    author_name = models.CharField(max_length=150)
    text = models.TextField()

    class Meta:
        ordering = ["incident", "id"]

    def __str__(self) -> str:
        return f"{self.author_name}: {self.text[:60]}"
