"""The gate checks of the five runbooks, composed from the other apps' reads. Each gets the
time its clock started (the verified step's finish) and counts only evidence from then on."""

from datetime import datetime, timedelta

from django.conf import settings

from campaigns.models import Campaign, SendResult
from campaigns.test_send import whatsapp_test_send_due
from incidents.gates.registry import GateResult, gate_check
from incidents.models import Incident
from integrations.status import probe_history, status_get


@gate_check("incident_note_added")
def incident_note_added(incident: Incident, since: datetime) -> GateResult:
    """ "Add incident note in Logs page": a note written once the mitigation has run."""
    count = incident.notes.filter(at__gte=since).count()
    return GateResult(count > 0, f"{count} note(s) since {since:%H:%M:%S}")


@gate_check("targets_advance")
def targets_advance(incident: Incident, since: datetime) -> GateResult:
    """ "Verify target statuses update within 5 minutes" (from the replay): each impacted
    campaign sent at least INCIDENT_GATE_MIN_TARGETS_SENT targets since, or completed. One
    target changing is not the dispatcher moving again."""
    ids = list(
        incident.impacted.filter(object_type="campaigns.campaign").values_list(
            "object_id", flat=True
        )
    )
    if not ids:
        return GateResult(False, "no campaign linked to the incident")
    needed = settings.INCIDENT_GATE_MIN_TARGETS_SENT
    progress = []
    for cid in ids:
        if Campaign.objects.filter(
            pk=cid, state=Campaign.State.COMPLETED, completed_at__gte=since
        ).exists():
            progress.append((True, f"campaign {cid} completed"))
            continue
        sent = SendResult.objects.filter(
            campaign_id=cid, is_test=False, outcome=SendResult.Outcome.SENT, at__gte=since
        ).count()
        progress.append((sent >= needed, f"campaign {cid}: {sent}/{needed} sent"))
    detail = f"since {since:%H:%M:%S}: " + "; ".join(text for _, text in progress)
    return GateResult(all(ok for ok, _ in progress), detail)


def _probed_since(key: str, since: datetime) -> tuple[str, str, datetime] | None:
    """The newest stored probe of `key` (any process's: the stored rows, not this process's
    cache), probing now when none is from after `since`: (state, reason, checked_at)."""
    rows = probe_history(key=key, limit=1)
    if not rows or rows[0].checked_at < since:
        status_get(force=True)  # single-flight across processes; stores its results
        rows = probe_history(key=key, limit=1)
    if not rows:
        return None
    return rows[0].state, rows[0].reason, rows[0].checked_at


@gate_check("voucher_png_green")
def voucher_png_green(incident: Incident, since: datetime) -> GateResult:
    """ "Verify preview works": the voucher_png probe (which renders a PNG) is green on a
    probe run after the redeploy."""
    found = _probed_since("voucher_png", since)
    if found is None:
        return GateResult(False, "voucher_png probe not registered")
    state, reason, at = found
    return GateResult(state == "green", f"voucher_png {state} ({reason}) at {at:%H:%M:%S}")


@gate_check("whatsapp_ef_202")
def whatsapp_ef_202(incident: Incident, since: datetime) -> GateResult:
    """ "Resume campaigns once EF returns 202": a real 202 from send-whatsapp since the
    campaigns were paused — the first real send after resume, or a test send to
    WHATSAPP_TEST_NUMBER. A probe (a GET) proves nothing about sending."""
    real = SendResult.objects.filter(
        is_test=False, outcome=SendResult.Outcome.SENT, at__gte=since
    ).first()
    if real is not None:
        return GateResult(True, f"a campaign send was accepted (202) at {real.at:%H:%M:%S}")
    # The sweep re-checks every 20 s; the test phone is texted at most this often.
    every = timedelta(seconds=settings.WHATSAPP_TEST_SEND_EVERY_SECONDS)
    test = whatsapp_test_send_due(since=since, every=every)
    if test is None:
        return GateResult(
            False,
            "no 202 yet: no WHATSAPP_TEST_NUMBER set, waiting for the first send after resume",
        )
    if test.outcome == SendResult.Outcome.SENT:
        return GateResult(True, f"test send to {test.phone} accepted (202) at {test.at:%H:%M:%S}")
    return GateResult(
        False, f"test send to {test.phone} at {test.at:%H:%M:%S} failed: {test.error_code}"
    )
