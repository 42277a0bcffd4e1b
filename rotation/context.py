"""What one execution of a rotation carries from step to step: the run, the operator, the
log, the new key (in memory only) and the targets table. The executor (saga.py) creates it;
every step (steps.py, steps_targets.py) receives it."""

import logging
from collections.abc import Callable
from typing import Any

from django.utils import timezone

import audit
from audit.redaction import mask_text
from incidents.engine.timeline import timeline_append
from integrations.clients.secrets_manager import SecretsManagerClient
from integrations.clients.supabase_management import SupabaseManagementClient
from integrations.clients.vercel import VercelClient
from integrations.errors import IntegrationError
from rotation.keys import key_fingerprint
from rotation.models import RotationRun, RotationStep, RotationTarget

logger = logging.getLogger("rotation")


class StepFailed(Exception):
    """The step ran and its check says no; the message is for the operator."""


def secrets() -> SecretsManagerClient:
    return SecretsManagerClient()


def vercel(saga: "Saga") -> VercelClient:
    if not saga.project.vercel_project:
        raise StepFailed("The project registry names no Vercel project.")
    return VercelClient(project=saga.project.vercel_project)


def management(saga: "Saga") -> SupabaseManagementClient:
    return SupabaseManagementClient(project_ref=saga.project.project_ref)


class Saga:
    """One execution of a run. `log` receives operator-facing lines (masked again here)."""

    def __init__(
        self, run: RotationRun, *, actor: Any, log: Callable[[str], None], incident_step: Any = None
    ):
        self.run = run
        self.project = run.project
        self.actor = actor
        self._log = log
        self.incident_step = incident_step
        self._new_key: str | None = None

    def log(self, message: str) -> None:
        line = mask_text(message)
        logger.info("rotation #%s: %s", self.run.pk, line)
        self._log(line)

    # --- key access (memory only) ---------------------------------------------------------

    def new_key(self) -> str:
        if self._new_key is None:
            value = secrets().get_current(self.project.service_role_secret_id)
            if key_fingerprint(value) != self.run.new_fingerprint:
                raise StepFailed(
                    "Secrets Manager's AWSCURRENT changed since step 2 (now "
                    f"{key_fingerprint(value)}, expected {self.run.new_fingerprint}); "
                    "cancel this rotation and start a new one."
                )
            self._new_key = value
        return self._new_key

    def new_key_seen(self, value: str) -> None:
        """Step 2 read the replacement: later steps use it without reading it again."""
        self._new_key = value

    def leaked_key_from_secrets_manager(self) -> str | None:
        """AWSPREVIOUS, when it is the leaked key (used to restore, and to prove it refused)."""
        try:
            value = secrets().get_previous(self.project.service_role_secret_id)
        except IntegrationError as exc:
            self.log(f"AWSPREVIOUS not readable: {exc}")
            return None
        if key_fingerprint(value) != self.run.leaked_fingerprint:
            return None
        return value

    # --- targets ----------------------------------------------------------------------------

    def target(self, kind: str, name: str, **fields: Any) -> RotationTarget:
        target, _ = RotationTarget.objects.update_or_create(
            run=self.run,
            kind=kind,
            name=name,
            defaults={**fields, "updated_at": timezone.now()},
        )
        return target

    def targets_summary(self) -> list[str]:
        return [
            f"{t.get_kind_display()} {t.name}: {t.fingerprint or '—'} ({t.state})"
            for t in self.run.targets.all()
        ]

    # --- records ------------------------------------------------------------------------------

    def record(self, step: RotationStep, *, message: str, kind: str = "rotation_step") -> None:
        timeline_append(
            incident=self.run.incident,
            kind=kind,
            message=message,
            actor=self.actor,
            step=self.incident_step,
            data={"rotation_id": self.run.pk, "step": step.number, "status": step.status},
        )
        audit.record(
            action=f"rotation.step_{step.status}",
            actor=self.actor,
            target=self.run,
            incident_id=self.run.incident_id,
            data={
                "rotation_id": self.run.pk,
                "step": step.number,
                "key": step.key,
                "detail": step.detail,
                "data": step.data,
            },
        )
