from django.db import models


class ProbeResult(models.Model):
    """One probe of one integration: the status API's cache is built from the newest per key."""

    class State(models.TextChoices):
        GREEN = "green"
        AMBER = "amber"
        RED = "red"

    key = models.CharField(max_length=40)
    label = models.CharField(max_length=80)
    state = models.CharField(max_length=5, choices=State.choices)
    reason = models.CharField(max_length=20)
    detail = models.CharField(max_length=500, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    forced = models.BooleanField(default=False)
    checked_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-checked_at", "-id"]
        indexes = [models.Index(fields=["key", "-checked_at"], name="probe_key_recent")]
        permissions = [("run_probe", "Can run integration probes now")]

    def __str__(self) -> str:
        return f"{self.key} {self.state}/{self.reason} at {self.checked_at:%Y-%m-%d %H:%M:%S}"


class ProbeRun(models.Model):
    """One round of probes shared by every process and host (integrations/flight.py).

    `started_at` is when its probes start (planned when the run is created): a forced
    request that arrived at or before it is answered by this run's `payload`."""

    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    abandoned = models.BooleanField(default=False)  # its leader died or failed: never finishes
    forced = models.BooleanField(default=False)
    leader = models.CharField(max_length=200, blank=True)
    payload = models.JSONField(null=True, blank=True)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"probe run {self.pk} from {self.started_at:%H:%M:%S.%f}"
