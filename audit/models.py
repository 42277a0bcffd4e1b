from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    """One thing someone (or the system) did. Written only by `audit.record`.

    Never updated or deleted. The actor FK carries no database constraint and no
    cascade, so deleting a user never touches the log; `actor_name` keeps who it was.
    """

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_name = models.CharField(max_length=150)
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=200, blank=True)
    incident_id = models.BigIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name_plural = "audit entries"
        ordering = ["-id"]
        permissions = [("export_auditentry", "Can export the audit log")]
        indexes = [
            models.Index(fields=["action", "-id"], name="audit_action_id"),
            models.Index(fields=["actor", "-id"], name="audit_actor_id"),
            models.Index(fields=["target_type", "target_id", "-id"], name="audit_target_id"),
            models.Index(fields=["incident_id", "-id"], name="audit_incident_id"),
        ]

    def __str__(self) -> str:
        return f"#{self.id} {self.actor_name} {self.action} {self.target_repr}".strip()
