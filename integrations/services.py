import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied

import audit
from integrations.status import probes_run

RUN_PROBE_PERMISSION = "integrations.run_probe"


def probes_run_by(*, actor: Any, arrived: dt.datetime | None = None) -> dict:
    """A person pressed "Probe now": probe everything (single-flight: answered by a run that
    started after `arrived`, the request's arrival, default now) and record who did.
    Refused to anyone without `integrations.run_probe` (the auditor only reads)."""
    if not actor.has_perm(RUN_PROBE_PERMISSION):
        raise PermissionDenied("You may not run probes.")
    payload = probes_run(forced=True, arrived=arrived)
    audit.record(
        action="integrations.probe_now",
        actor=actor,
        target_type="integrations.status",
        target_id="all",
        target_repr="Integrations status",
        data={
            "overall": payload["overall"],
            "states": {i["key"]: f"{i['state']}/{i['reason']}" for i in payload["integrations"]},
        },
    )
    return payload
