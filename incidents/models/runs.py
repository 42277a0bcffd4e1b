from django.db import models

from incidents.models.fields import person
from incidents.models.incident import Incident, IncidentStep


class Approval(models.Model):
    """A second person's yes/no to one risky step with exactly these parameters, for a while."""

    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        DENIED = "denied"
        VOID = "void"  # superseded by a request with other parameters
        EXPIRED = "expired"  # nobody decided in time
        USED = "used"

    class Kind(models.TextChoices):
        RUN = "run"  # approved: the run is queued
        SKIP = "skip"  # approved: the step is skipped (a risky step is never skipped alone)

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="approvals")
    step = models.ForeignKey(IncidentStep, on_delete=models.PROTECT, related_name="approvals")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.RUN)
    action_key = models.CharField(max_length=64)
    params = models.JSONField(default=dict)
    params_hash = models.CharField(max_length=64)
    # What the parameters resolved to when requested (a project's ref, its targets): the
    # approval covers these too, and the run refuses to start if they changed.
    plan = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    requested_by = person(null=False, blank=False)
    requested_by_name = models.CharField(max_length=150)
    requested_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    decided_by = person()
    decided_by_name = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"approval #{self.pk} {self.action_key} ({self.status})"


class StepRun(models.Model):
    """One execution of an action step: our own run record (django-q2's table is secondary)."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"
        # Its worker was lost after the run started: the side effect may have happened.
        OUTCOME_UNKNOWN = "outcome_unknown"

    UNFINISHED = (Status.QUEUED, Status.RUNNING)

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="runs")
    step = models.ForeignKey(IncidentStep, on_delete=models.PROTECT, related_name="runs")
    action_key = models.CharField(max_length=64)
    params = models.JSONField(default=dict, blank=True)
    params_hash = models.CharField(max_length=64)
    dry_run = models.BooleanField(default=False)
    approval = models.ForeignKey(
        Approval, null=True, blank=True, on_delete=models.PROTECT, related_name="runs"
    )
    rerun_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = person()
    actor_name = models.CharField(max_length=150)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    log = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=500, blank=True)
    queued_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "queued_at"], name="steprun_status_queued")]

    def __str__(self) -> str:
        return f"run #{self.pk} {self.action_key} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status not in self.UNFINISHED

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None
