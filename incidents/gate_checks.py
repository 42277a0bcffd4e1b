"""The gate checks of the five runbooks, composed from the other apps' reads."""

from campaigns.models import Target
from incidents.gates import GateResult, gate_check
from incidents.models import Incident


@gate_check("targets_advance")
def targets_advance(incident: Incident) -> GateResult:
    """Some target of each impacted campaign changed status since the step was reached
    (the dispatcher is moving again)."""
    ids = list(
        incident.impacted.filter(object_type="campaigns.campaign").values_list(
            "object_id", flat=True
        )
    )
    if not ids:
        return GateResult(False, "no campaign linked to the incident")
    since = (
        incident.runs.filter(action_key="dispatcher_replay", status="succeeded")
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
        or incident.detected_at
    )
    stuck = [
        cid
        for cid in ids
        if not Target.objects.filter(campaign_id=cid, updated_at__gte=since)
        .exclude(status=Target.Status.PENDING)
        .exists()
    ]
    if stuck:
        return GateResult(
            False, f"no target advanced since {since:%H:%M:%S} for campaign(s) {', '.join(stuck)}"
        )
    return GateResult(True, f"targets advanced since {since:%H:%M:%S}")
