"""The fields every approval row has, as an abstract model (the rules read these names)."""

from django.conf import settings
from django.db import models


def _person(*, null: bool = True) -> models.ForeignKey:
    # No database constraint and no cascade: the record outlives the user; the name is kept.
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=null,
        blank=null,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )


class ApprovalFields(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        DENIED = "denied"
        VOID = "void"  # superseded, or what it was bound to changed
        EXPIRED = "expired"  # nobody decided in time
        USED = "used"

    change_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    requested_by = _person(null=False)
    requested_by_name = models.CharField(max_length=150)
    requested_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    decided_by = _person()
    decided_by_name = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        abstract = True
