"""The Supabase projects registry and the records of a service-role key rotation.

Only fingerprints of keys are stored here (audit.redaction.fingerprint), never values:
the values live in AWS Secrets Manager and in the services that use them.

The tables kept their names from when rotation lived inside incidents (`db_table`): the
move to this app changed Django's state only (migrations/0001_initial.py).
"""

import re
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from incidents.engine.claims import ClaimRule
from incidents.models import Incident
from incidents.models.fields import person

ENV_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
FUNCTION_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def _names(value, *, pattern: re.Pattern, what: str) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(f'{what}: a list of names, e.g. ["NAME_ONE", "NAME_TWO"].')
    bad = [v for v in value if not pattern.match(v)]
    if bad:
        raise ValidationError(f"{what}: invalid name(s): {', '.join(bad)}.")


def validate_env_var_names(value) -> None:
    _names(value, pattern=ENV_VAR_NAME, what="Environment variable names")


def validate_secret_names(value) -> None:
    _names(value, pattern=ENV_VAR_NAME, what="Edge Function secret names")
    reserved = [v for v in value if v.upper().startswith("SUPABASE_")]
    if reserved:
        # The Management API refuses these names (external-apis.md).
        raise ValidationError(f"Secret names may not start with SUPABASE_: {', '.join(reserved)}.")


def validate_function_slugs(value) -> None:
    _names(value, pattern=FUNCTION_SLUG, what="Edge Functions")


def validate_vercel_targets(value) -> None:
    _names(value, pattern=re.compile(r"^(production|preview|development)$"), what="Vercel targets")


class SupabaseProject(models.Model):
    """Who owns which Supabase project, and where its service-role key lives and is used
    (replaces the runbook's docs/deployment/supabase-projects.md)."""

    class Environment(models.TextChoices):
        PRODUCTION = "production"
        STAGING = "staging"

    environment = models.CharField(max_length=16, choices=Environment.choices, unique=True)
    project_ref = models.CharField(max_length=64)
    primary_owner = models.CharField("Primary owner (name)", max_length=200)
    owner_email = models.EmailField(blank=True)
    owner_slack = models.CharField(
        max_length=80, blank=True, help_text="Slack member id (U…) or @handle for direct messages"
    )
    service_role_secret_id = models.CharField(
        max_length=200, help_text="AWS Secrets Manager id, e.g. prod/easymo/supabase/service-role"
    )
    vercel_project = models.CharField(max_length=100, blank=True)
    vercel_env_vars = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_env_var_names],
        help_text='Vercel env vars holding the key, e.g. ["SUPABASE_SERVICE_ROLE_KEY"]',
    )
    vercel_targets = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_vercel_targets],
        help_text='e.g. ["production", "preview"]',
    )
    function_secret_names = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_secret_names],
        help_text='Edge Function secrets holding the key, e.g. ["SERVICE_ROLE_KEY"]',
    )
    edge_functions = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_function_slugs],
        help_text='Edge Functions using the key, e.g. ["voucher-png", "send-whatsapp"]',
    )

    class Meta:
        db_table = "incidents_supabaseproject"
        ordering = ["environment"]

    def __str__(self) -> str:
        return f"{self.environment}: {self.project_ref}"


class RotationStatus(models.TextChoices):
    """A rotation run's status: the one list every rule and page uses."""

    PREPARED = "prepared"  # waiting for its approved run
    RUNNING = "running"
    FAILED = "failed"  # stopped after revocation began: resume continues
    ROLLED_BACK = "rolled_back"  # step 3/4 failed: previous values restored
    SUCCEEDED = "succeeded"
    CANCELLED = "cancelled"


# Prepared, or stopped where resume continues: a worker may claim it.
RESUMABLE = (RotationStatus.PREPARED, RotationStatus.FAILED, RotationStatus.ROLLED_BACK)
# At most one per project (constraint).
UNFINISHED = (
    RotationStatus.PREPARED,
    RotationStatus.RUNNING,
    RotationStatus.FAILED,
    RotationStatus.ROLLED_BACK,
)


class RotationRun(models.Model):
    """One rotation of a project's service-role key: a saga of nine recorded steps."""

    Status = RotationStatus
    RESUMABLE = RESUMABLE
    UNFINISHED = UNFINISHED

    class KeyKind(models.TextChoices):
        SECRET = "secret", "API secret key (sb_secret_…): revoked by id"
        LEGACY = "legacy", "Legacy JWT service_role key: legacy keys disabled"

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="rotations")
    project = models.ForeignKey(SupabaseProject, on_delete=models.PROTECT, related_name="+")
    leaked_fingerprint = models.CharField(max_length=40)
    leaked_kind = models.CharField(max_length=8, choices=KeyKind.choices)
    leaked_key_id = models.CharField(max_length=100, blank=True)
    new_fingerprint = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PREPARED)
    failed_step = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    prepared_by = person(blank=False)
    prepared_by_name = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rotated_at = models.DateTimeField(null=True, blank=True)  # when the leaked key was revoked

    class Meta:
        db_table = "incidents_rotationrun"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(status__in=[str(s) for s in UNFINISHED]),
                name="rotation_one_unfinished_per_project",
            )
        ]

    def __str__(self) -> str:
        return f"rotation #{self.pk} {self.project.environment} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.CANCELLED)

    @property
    def is_prepared(self) -> bool:
        return self.status == self.Status.PREPARED


# A worker claims a resumable run; a running one whose heartbeat is older than
# ROTATION_STALE_SECONDS lost its worker (killed, timed out) and may be resumed (every saga
# step is idempotent). The same rule decides what the pages may resume or cancel.
ROTATION_CLAIM = ClaimRule(
    noun="Rotation",
    claimable=RotationRun.RESUMABLE,
    running=RotationRun.Status.RUNNING,
    last_seen=lambda run: run.heartbeat_at,
    budget=lambda run: timedelta(seconds=settings.ROTATION_STALE_SECONDS),
    take_over_stale=True,
)


class RotationStep(models.Model):
    # The saga's nine steps, in order (number = position + 1); rotation/saga.py runs them.
    KEYS = (
        "notify_owner",
        "fetch_replacement",
        "update_vercel",
        "update_function_secrets",
        "verify_new_key",
        "revoke_leaked_key",
        "invalidate_sessions",
        "confirm_old_key_refused",
        "post_summary",
    )
    # What each step does, in the words the pages use (never the internal key).
    NAMES = {
        "notify_owner": "Notify the project's owner",
        "fetch_replacement": "Fetch the new key from Secrets Manager",
        "update_vercel": "Put the new key in Vercel and redeploy",
        "update_function_secrets": "Put the new key in the Edge Function secrets",
        "verify_new_key": "Check that the new key works",
        "revoke_leaked_key": "Revoke the leaked key",
        "invalidate_sessions": "Sign everyone out",
        "confirm_old_key_refused": "Check that the leaked key is refused",
        "post_summary": "Post the summary to the ops channel",
    }

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"
        ROLLED_BACK = "rolled_back"

    run = models.ForeignKey(RotationRun, on_delete=models.CASCADE, related_name="steps")
    number = models.PositiveSmallIntegerField()
    key = models.CharField(max_length=40)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    detail = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "incidents_rotationstep"
        ordering = ["run", "number"]
        constraints = [
            models.UniqueConstraint(fields=["run", "number"], name="rotation_step_unique")
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.name} ({self.status})"

    @property
    def name(self) -> str:
        return self.NAMES.get(self.key, self.key)


class RotationTarget(models.Model):
    """A place that holds the key, and which key (by fingerprint) it holds now."""

    class Kind(models.TextChoices):
        SECRETS_MANAGER = "secrets_manager"
        VERCEL_ENV = "vercel_env"
        FUNCTION_SECRET = "function_secret"
        SUPABASE_KEY = "supabase_key"  # the leaked key itself: active or revoked

    run = models.ForeignKey(RotationRun, on_delete=models.CASCADE, related_name="targets")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=200)
    existed = models.BooleanField(default=True)  # before the rotation touched it
    external_id = models.CharField(max_length=100, blank=True)  # Vercel env id (for rollback)
    fingerprint = models.CharField(max_length=40, blank=True)
    state = models.CharField(max_length=40, blank=True)  # old | new | restored | revoked | …
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "incidents_rotationtarget"
        ordering = ["run", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["run", "kind", "name"], name="rotation_target_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.name} → {self.fingerprint or '—'} ({self.state})"
