"""Claiming a run record: one rule for every record a worker executes (incident step runs,
key rotations).

A worker may take a run when its status is claimable. A run that is `running` belongs to
the worker that claimed it until that worker stops giving signs of life (a heartbeat, or
the start time) for longer than the run's budget: then the run is *stale*. What happens
to a stale run is the run type's choice: a rotation (idempotent, resumable steps) may be
taken over by a new claim; a step run (an action that may not be idempotent) is never run
twice and is failed by a sweep instead.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone


class RunNotClaimable(ValidationError):
    """The run is finished, cancelled or otherwise not for a worker to take."""


class RunBusy(RunNotClaimable):
    """Another worker holds the run and is still alive."""


@dataclass(frozen=True)
class ClaimRule:
    noun: str  # "Rotation", "Run": how messages name the record
    claimable: tuple[str, ...]
    running: str
    last_seen: Callable[[Any], datetime | None]  # the worker's last sign of life
    budget: Callable[[Any], timedelta]  # how long a worker may stay silent
    take_over_stale: bool = False

    def is_stale(self, run: Any, now: datetime | None = None) -> bool:
        """`running`, and its worker silent for longer than the budget (killed, hung)."""
        if run.status != self.running:
            return False
        seen = self.last_seen(run)
        return seen is None or seen < (now or timezone.now()) - self.budget(run)

    def can_claim(self, run: Any, now: datetime | None = None) -> bool:
        return run.status in self.claimable or (self.take_over_stale and self.is_stale(run, now))

    def lock(self, queryset: QuerySet, pk: int) -> Any:
        """Lock the run's row (call inside a transaction) and return it if a worker may take
        it now; raise RunBusy / RunNotClaimable otherwise. The caller marks it running."""
        run = queryset.select_for_update(of=("self",)).get(pk=pk)
        if self.can_claim(run):
            return run
        if run.status == self.running:
            raise RunBusy(f"{self.noun} #{run.pk} is already running.")
        raise RunNotClaimable(f"{self.noun} #{run.pk} is {run.status}; nothing to resume.")
