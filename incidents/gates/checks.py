"""The gate checks of the five runbooks, composed from the other apps' reads."""

from campaigns.health import whatsapp_is_red
from campaigns.models import SendResult, Target
from incidents.gates.registry import GateResult, gate_check
from incidents.models import Incident, StepRun
from integrations.status import status_get


@gate_check("incident_note_added")
def incident_note_added(incident: Incident) -> GateResult:
    count = incident.notes.count()
    return GateResult(count > 0, f"{count} note(s) on the incident")


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
        incident.runs.filter(action_key="dispatcher_replay", status=StepRun.Status.SUCCEEDED)
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


def _integration(key: str) -> dict | None:
    payload = status_get()  # at most 60 s old; probes (bounded) only when stale
    return next((i for i in payload["integrations"] if i["key"] == key), None)


@gate_check("voucher_png_green")
def voucher_png_green(incident: Incident) -> GateResult:
    """ "Verify preview works": the voucher_png probe (which renders a PNG) is green."""
    item = _integration("voucher_png")
    if item is None:
        return GateResult(False, "voucher_png probe not registered")
    return GateResult(item["state"] == "green", f"voucher_png {item['state']} ({item['reason']})")


@gate_check("whatsapp_ef_202")
def whatsapp_ef_202(incident: Incident) -> GateResult:
    """ "EF returns 202": a send accepted (202) since detection, or the send-whatsapp probe is
    no longer red (the same rule campaign start applies)."""
    if SendResult.objects.filter(outcome="sent", at__gte=incident.detected_at).exists():
        return GateResult(True, "a send was accepted (202) since detection")
    if whatsapp_is_red():
        return GateResult(False, "send-whatsapp probe is red")
    return GateResult(True, "send-whatsapp probe is not red")
