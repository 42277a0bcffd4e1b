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
