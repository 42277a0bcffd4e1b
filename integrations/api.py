"""Staff API: `GET /api/integrations/status[?force=true]` (docs/contracts.md)."""

import datetime as dt
from typing import Literal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.views.decorators.cache import never_cache
from ninja import Field, Router, Schema
from ninja.decorators import decorate_view
from pydantic import BaseModel, ConfigDict

from integrations.services import probes_run_by
from integrations.status import status_get
from staff.api_errors import errors

router = Router(tags=["integrations"])

TRUE, FALSE = {"true", "1", "yes"}, {"false", "0", "no", ""}
QUEUE_AGE_LIMIT = dt.timedelta(seconds=60)
State = Literal["green", "amber", "red"]


class IntegrationStatus(BaseModel):
    # A probe may add keys (the dispatcher's queue_length). A plain pydantic model: ninja's
    # Schema reads its input through attribute access, which would drop them.
    model_config = ConfigDict(extra="allow")

    key: str
    label: str
    state: State
    reason: str
    detail: str
    latency_ms: int | None
    checked_at: str = Field(description="UTC, ISO 8601")


class Status(Schema):
    overall: State
    checked_at: str = Field(description="UTC, ISO 8601")
    integrations: list[IntegrationStatus]


@router.get("/status", response={200: Status, **errors()}, url_name="integrations-status")
@decorate_view(never_cache)
def status(request, force: str = ""):
    """Every integration's state, at most 60 s old; `force=true` probes them all now
    (needs `integrations.run_probe`: auditors read, they do not make the portal call out)."""
    if not request.user.has_perm("integrations.view_proberesult"):
        raise PermissionDenied
    force = force.strip().lower()
    if force not in TRUE | FALSE:
        raise ValidationError("force must be true or false")
    if force in TRUE:
        # Making the portal call out is "Probe now": the run_probe permission, audited.
        return probes_run_by(actor=request.user, arrived=arrived_at(request))
    return status_get()


def arrived_at(request) -> dt.datetime:
    """When the request reached us: the trusted proxy's X-Request-Start (`t=` seconds, or
    milli-/microseconds), never later than now nor older than a minute; else now."""
    now = timezone.now()
    raw = request.headers.get("X-Request-Start", "") if settings.TRUST_X_REQUEST_START else ""
    try:
        value = float(raw.strip().removeprefix("t="))
    except ValueError:
        return now
    while value > 1e11:  # ms or µs since the epoch
        value /= 1000
    arrived = dt.datetime.fromtimestamp(value, tz=dt.UTC)
    return arrived if now - QUEUE_AGE_LIMIT <= arrived <= now else now
