"""PagerDuty → portal: V3 webhook events, signature-verified, each applied once.

- `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]`: HMAC-SHA256 of the raw body with a
  subscription secret (`PAGERDUTY_WEBHOOK_SECRETS`, several while rotating); any one match
  is enough, compared in constant time. No header or a malformed one → 400; no match → 403.
- Each accepted event's id is stored (unique): a repeated delivery changes nothing.
- Mapped to our incident by the alert's dedup key (`incident_key`/`dedup_key`/`alert_key`)
  or by PagerDuty's incident id learnt earlier; an unknown incident is acknowledged (202)
  and ignored.
- `incident.acknowledged` acknowledges here (MTTA keeps the earliest acknowledgement),
  `incident.resolved` marks "Close the incident in PagerDuty" done (resolving here stays a
  person's decision), `incident.annotated` copies the note to the timeline.
- Every refusal changes nothing and is audited — once per reason and window
  (`PAGERDUTY_WEBHOOK_REFUSAL_WINDOW_SECONDS`), the rest counted (`WebhookRefusal`), so an
  anonymous sender cannot grow the audit log at will.
"""

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime

import audit
from incidents.engine.timeline import SYSTEM, timeline_append
from incidents.models import Incident, IncidentStep, PagerDutyWebhookEvent, WebhookRefusal
from incidents.services.acknowledge import incident_acknowledge

SOURCE = "pagerduty"
SIGNATURE = re.compile(r"^v1=([0-9a-fA-F]{64})$")
MAX_SIGNATURES = 10
NOTE_MAX = 2000


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict


class Refused(Exception):
    def __init__(self, status: int, reason: str, detail: str):
        self.status, self.reason, self.detail = status, reason, detail
        super().__init__(detail)


def signature_verify(*, body: bytes, header: str | None, secrets: list[str]) -> None:
    """Raise Refused unless one v1 signature in `header` is the body's HMAC with a secret."""
    if not header or not header.strip():
        raise Refused(400, "signature_missing", "X-PagerDuty-Signature is missing")
    parts = [p.strip() for p in header.split(",") if p.strip()]
    matches = [SIGNATURE.match(p) for p in parts[:MAX_SIGNATURES]]
    if not parts or len(parts) > MAX_SIGNATURES or not all(matches):
        raise Refused(400, "signature_malformed", "X-PagerDuty-Signature is not v1=<hex>[,…]")
    given = [m.group(1).lower() for m in matches]
    valid = False
    for secret in (s for s in secrets if s):
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        # Every pair compared, in constant time each: no early exit tells which part matched.
        for signature in given:
            valid |= hmac.compare_digest(expected, signature)
    if not valid:
        raise Refused(403, "signature_mismatch", "no signature matches a configured secret")


def webhook_refusal_record(*, reason: str, ip: str, detail: str = "") -> WebhookRefusal:
    """Count a refused delivery; the first of its reason in this window is audited."""
    now = timezone.now()
    window = max(settings.PAGERDUTY_WEBHOOK_REFUSAL_WINDOW_SECONDS, 1)
    start = datetime.fromtimestamp(int(now.timestamp()) // window * window, tz=UTC)
    with transaction.atomic():
        row, created = WebhookRefusal.objects.get_or_create(
            source=SOURCE, reason=reason, window_start=start, defaults={"count": 1, "last_at": now}
        )
        if not created:
            WebhookRefusal.objects.filter(pk=row.pk).update(count=F("count") + 1, last_at=now)
            return row
        audit.record(
            action="pagerduty_webhook.refused",
            actor_name=f"webhook:{SOURCE}",
            target_type="incidents.webhook",
            target_repr="PagerDuty webhook",
            data={
                "reason": reason,
                "detail": detail[:200],
                "ip": ip,
                "window_start": start.isoformat(),
                "window_seconds": window,
                "note": "later refusals of this reason in this window are counted, not audited",
            },
        )
    return row


def _event(body: bytes) -> dict:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Refused(400, "invalid_payload", "the body is not JSON") from None
    event = payload.get("event") if isinstance(payload, dict) else None
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("id"), str)
        or not event["id"].strip()
        or not isinstance(event.get("event_type"), str)
        or not isinstance(event.get("data"), dict)
    ):
        raise Refused(400, "invalid_payload", "expected {event: {id, event_type, data}}")
    return event


def pagerduty_webhook_receive(*, body: bytes, signature: str | None, ip: str) -> Answer:
    """One delivery: verify, de-duplicate, map, apply. Never raises for bad input."""
    try:
        signature_verify(body=body, header=signature, secrets=settings.PAGERDUTY_WEBHOOK_SECRETS)
        event = _event(body)
    except Refused as refused:
        webhook_refusal_record(reason=refused.reason, ip=ip, detail=refused.detail)
        return Answer(refused.status, {"error": refused.reason, "detail": refused.detail})
    try:
        with transaction.atomic():
            return _apply(event)
    except IntegrityError:  # the event id is known: a repeated delivery or a replay
        webhook_refusal_record(reason="replayed", ip=ip, detail=event["id"][:100])
        return Answer(200, {"status": "duplicate"})


def _occurred_at(event: dict) -> datetime:
    value = event.get("occurred_at")
    when = parse_datetime(value) if isinstance(value, str) else None
    now = timezone.now()
    if when is None or timezone.is_naive(when) or when > now:
        return now
    return when


def _keys(data: dict) -> tuple[list[str], str]:
    """(dedup keys, PagerDuty incident id) named by the event's data."""
    keys = [data[k] for k in ("incident_key", "dedup_key", "alert_key") if _text(data.get(k))]
    pd_id = ""
    if data.get("type") == "incident" and _text(data.get("id")):
        pd_id = data["id"]
    elif isinstance(data.get("incident"), dict) and _text(data["incident"].get("id")):
        pd_id = data["incident"]["id"]
    return keys, pd_id


def _text(value) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 255


def _incident_for(data: dict) -> Incident | None:
    keys, pd_id = _keys(data)
    incident = None
    if keys:
        incident = Incident.objects.filter(pagerduty_dedup_key__in=keys).order_by("-id").first()
    if incident is None and pd_id:
        incident = Incident.objects.filter(pagerduty_incident_id=pd_id).order_by("-id").first()
    if incident is None:
        return None
    if pd_id and not incident.pagerduty_incident_id:
        Incident.objects.filter(pk=incident.pk).update(pagerduty_incident_id=pd_id[:64])
    for _ in range(5):  # a merged incident's news belong to its survivor
        if incident.merged_into_id is None:
            break
        incident = incident.merged_into
    return incident


def _agent(event: dict) -> str:
    agent = event.get("agent")
    name = agent.get("summary") if isinstance(agent, dict) else None
    return name[:100] if _text(name) else "PagerDuty"


def _apply(event: dict) -> Answer:
    data, kind = event["data"], event["event_type"]
    incident = _incident_for(data)
    record = PagerDutyWebhookEvent.objects.create(
        event_id=event["id"][:100],
        event_type=kind[:64],
        occurred_at=_occurred_at(event),
        received_at=timezone.now(),
        incident=incident,
        outcome="unknown_incident" if incident is None else "applied",
    )
    if incident is None:
        return Answer(202, {"status": "ignored", "detail": "no incident of ours"})
    handler = HANDLERS.get(kind)
    if handler is None:
        PagerDutyWebhookEvent.objects.filter(pk=record.pk).update(outcome="ignored")
        return Answer(200, {"status": "ignored", "incident": incident.pk})
    handler(incident, event, record)
    return Answer(200, {"status": "applied", "incident": incident.pk})


def _acknowledged(incident: Incident, event: dict, record: PagerDutyWebhookEvent) -> None:
    incident_acknowledge(
        incident=incident,
        actor=None,
        via="pagerduty",
        at=record.occurred_at,
        by_name=_agent(event),
        data={"event_id": record.event_id},
    )


def _resolved(incident: Incident, event: dict, record: PagerDutyWebhookEvent) -> None:
    who = _agent(event)
    step = (
        IncidentStep.objects.select_for_update()
        .filter(incident=incident, key="pagerduty_resolve")
        .exclude(status__in=(*IncidentStep.FINISHED, IncidentStep.Status.RUNNING))
        .first()
    )
    if step is not None:
        step.status, step.completed_at, step.completed_by_name = "done", timezone.now(), SYSTEM
        step.note = f"resolved in PagerDuty by {who}"
        step.save(update_fields=["status", "completed_at", "completed_by_name", "note"])
    timeline_append(
        incident=incident,
        kind="pagerduty_resolved",
        message=f"PagerDuty alert resolved in PagerDuty by {who}"
        + (
            " (the portal incident stays open until a person resolves it here)."
            if incident.is_open
            else "."
        ),
        step=step,
        data={"event_id": record.event_id},
    )
    audit.record(
        action="incident.pagerduty_resolved",
        actor_name=f"pagerduty:{who}",
        target=incident,
        incident_id=incident.pk,
        data={"event_id": record.event_id},
    )


def _annotated(incident: Incident, event: dict, record: PagerDutyWebhookEvent) -> None:
    who, content = _agent(event), event["data"].get("content")
    text = content[:NOTE_MAX] if isinstance(content, str) else ""
    timeline_append(
        incident=incident,
        kind="pagerduty_note",
        message=f"PagerDuty note by {who}: {text}",
        data={"event_id": record.event_id},
    )
    audit.record(
        action="incident.pagerduty_note",
        actor_name=f"pagerduty:{who}",
        target=incident,
        incident_id=incident.pk,
        data={"event_id": record.event_id, "chars": len(text)},
    )


HANDLERS = {
    "incident.acknowledged": _acknowledged,
    "incident.resolved": _resolved,
    "incident.annotated": _annotated,
}
