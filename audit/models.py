from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    """One thing someone (or the system) did. Written only by `audit.record`.

    Never updated or deleted (a PostgreSQL trigger refuses it, see migration 0002).
    The actor FK carries no database constraint and no cascade, so deleting a user
    never touches the log; `actor_name` keeps who it was. Entries are inserted
    unsealed; the sealer links them into the hash chain with an `AuditSeal` row.

    Every browser filter has an index ending in (at, id): the auditor's browser
    lists newest first by (at, id) with keyset pagination, so each page is one
    index range scan whatever the table size.
    """

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # filtering is by actor_name, which also covers the system and ex-staff
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
            models.Index(fields=["at", "id"], name="audit_at_id"),
            models.Index(fields=["actor_name", "at", "id"], name="audit_actor_at"),
            models.Index(fields=["action", "at", "id"], name="audit_action_at"),
            models.Index(fields=["target_type", "target_id", "at", "id"], name="audit_target_at"),
            models.Index(fields=["incident_id", "at", "id"], name="audit_incident_at"),
        ]

    def __str__(self) -> str:
        return f"#{self.id} {self.actor_name} {self.action} {self.target_repr}".strip()


class AuditSeal(models.Model):
    """The chain link of one entry, written once by the single sealer, never changed.

    `hash = sha256(prev_hash + "\\n" + canonical(entry))` (audit/verify_export.py);
    `prev_hash` is the hash of the previous sealed entry in id order.
    """

    entry = models.OneToOneField(
        AuditEntry,
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="seal",
    )
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    sealed_at = models.DateTimeField()

    class Meta:
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"seal #{self.entry_id} {self.hash[:12]}"


class AuditCheckpoint(models.Model):
    """A signed note of the chain head, so a removed tail or a re-chained log is detectable.

    Numbered 1, 2, 3... without gaps; each signs (its number, the previous checkpoint's
    digest, the head entry id and hash, the entry count, when, which key) with Ed25519
    (audit/signing.py; payload in audit/verify_export.py) and is copied to the anchor
    store outside the database (audit/anchors.py). An ARCHIVE checkpoint marks where
    `archive_audit` cut the oldest entries off: the chain that remains starts from its
    hash. Rows signed before numbering (number NULL, HMAC `signature`) are legacy: see
    audit/verification.py.
    """

    HEAD = "head"
    ARCHIVE = "archive"

    id = models.BigAutoField(primary_key=True)
    number = models.BigIntegerField(null=True, blank=True, unique=True)
    kind = models.CharField(
        max_length=8, default=HEAD, choices=[(HEAD, "chain head"), (ARCHIVE, "archived through")]
    )
    created_at = models.DateTimeField()
    prev = models.CharField(max_length=64, blank=True, default="")
    entry_id = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    count = models.BigIntegerField(null=True, blank=True)
    key_id = models.CharField(max_length=64, blank=True, default="")
    signature = models.CharField(max_length=128)

    class Meta:
        default_permissions = ("view",)
        indexes = [models.Index(fields=["entry_id"], name="audit_checkpoint_entry")]

    def __str__(self) -> str:
        label = f"#{self.number}" if self.number else f"legacy {self.id}"
        return f"checkpoint {label} at entry {self.entry_id}"


class AuditAnchor(models.Model):
    """Bookkeeping: checkpoint `number` was written to the anchor store. Anchors are
    written in number order, so the next seal run retries from the first one missing;
    verification reads the store itself, never this table."""

    number = models.BigIntegerField(primary_key=True)
    anchored_at = models.DateTimeField()
    location = models.CharField(max_length=500)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"anchor #{self.number}"


class AuditVerifyRun(models.Model):
    """One verification of the log (the Verify page's button or the daily schedule),
    run as a django-q2 task; our own record of it, not django-q's."""

    QUEUED, RUNNING, OK, BROKEN, FAILED = "queued", "running", "ok", "broken", "failed"
    STATUSES = [
        (QUEUED, "queued"),
        (RUNNING, "running"),
        (OK, "verified"),
        (BROKEN, "tampering found"),
        (FAILED, "could not run"),
    ]

    id = models.BigAutoField(primary_key=True)
    status = models.CharField(max_length=8, choices=STATUSES, default=QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_by_name = models.CharField(max_length=150)
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        default_permissions = ()
        permissions = [("verify_auditlog", "Can verify the audit log and get its public keys")]
        indexes = [models.Index(fields=["-requested_at"], name="audit_verifyrun_recent")]

    def __str__(self) -> str:
        return f"verification #{self.id} ({self.status})"


class AuditTerm(models.Model):
    """Actions and target types seen so far: the browser's filter choices, kept by the
    sealer so no page ever runs DISTINCT over the log."""

    ACTION = "action"
    TARGET_TYPE = "target_type"

    kind = models.CharField(
        max_length=16, choices=[(ACTION, "action"), (TARGET_TYPE, "target type")]
    )
    value = models.CharField(max_length=64)

    class Meta:
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="audit_term_unique")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.value}"
