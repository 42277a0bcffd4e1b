from typing import Any

import audit
from integrations.status import probes_run


def probes_run_by(*, actor: Any) -> dict:
    """A person pressed "Probe now": probe everything (single-flight) and record who did."""
    payload = probes_run(forced=True)
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
