"""Outbound notifications used by actions and timers (Slack, PagerDuty, e-mail), with the
integrations' typed errors mapped to one error type so callers write one `except`.

Slack and PagerDuty go through the integrations clients (timeouts, typed errors);
e-mail goes through Django's mail backend (EMAIL_URL).
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage

from integrations.clients.pagerduty import PagerDutyEventsClient, PagerDutyRestClient
from integrations.clients.slack import SlackClient
from integrations.errors import IntegrationError, NotConfigured, RateLimited, Timeout, Unavailable


class OutboundError(Exception):
    transient = False
    retry_after: float | None = None  # seconds, when the provider said (429)


class TransientOutboundError(OutboundError):
    transient = True


def _mapped(exc: IntegrationError) -> OutboundError:
    transient = isinstance(exc, Timeout | Unavailable | RateLimited) and not isinstance(
        exc, NotConfigured
    )
    mapped = (TransientOutboundError if transient else OutboundError)(str(exc))
    mapped.retry_after = getattr(exc, "retry_after", None)
    return mapped


def slack_post(*, text: str, channel: str = "") -> str:
    """Post to Slack (default channel: SLACK_OPS_CHANNEL); returns the message ts."""
    try:
        return SlackClient().post_message(text=text, channel=channel)
    except IntegrationError as exc:
        raise _mapped(exc) from None


def pagerduty_trigger(*, summary: str, dedup_key: str, severity: str = "error", details=None):
    try:
        return PagerDutyEventsClient().trigger(
            summary=summary,
            source="opsportal",
            severity=severity,
            dedup_key=dedup_key,
            details=details,
        )
    except IntegrationError as exc:
        raise _mapped(exc) from None


@dataclass(frozen=True)
class PagerDutyClosed:
    via: str  # "rest" or "events"
    dedup_key: str
    incidents: list[str] = field(default_factory=list)  # REST: the incidents resolved
    events_too: bool = False  # REST found none open: an Events v2 resolve went out as well

    def __str__(self) -> str:
        if self.via == "events":
            return "resolve event sent (Events v2)"
        if not self.incidents:
            also = "; Events v2 resolve sent" if self.events_too else ""
            return f"no open PagerDuty incident with this key (REST){also}"
        return f"resolved {', '.join(self.incidents)} with a note (REST)"

    @property
    def reference(self) -> str:
        return ", ".join(self.incidents) or self.dedup_key


def pagerduty_close_route() -> str:
    """How a page is closed: "rest" with a REST key and a From address (an incident resolved
    in PagerDuty by a person, with a note saying why), else "events" (Events v2 resolve)."""
    rest = PagerDutyRestClient()
    return "rest" if rest.configured and rest.from_email else "events"


def pagerduty_resolve(*, dedup_key: str, note: str = "") -> PagerDutyClosed:
    """Close the PagerDuty incident of `dedup_key` (pagerduty_close_route says how).

    Through REST: the open incidents with that incident key get the note, then are resolved
    as PAGERDUTY_FROM_EMAIL. Through Events v2: a resolve event for the alert (no note).
    PagerDuty makes the incident of an Events v2 trigger asynchronously, so when REST finds
    none open yet, an Events v2 resolve goes out too (a no-op for an alert already closed)."""
    try:
        events = PagerDutyEventsClient()
        if pagerduty_close_route() == "events":
            events.resolve(dedup_key=dedup_key)
            return PagerDutyClosed("events", dedup_key)
        rest = PagerDutyRestClient()
        resolved = []
        for incident in rest.incidents_by_key(dedup_key, open_only=True):
            if note:
                rest.incident_note_add(incident["id"], note)
            rest.incident_resolve(incident["id"])
            resolved.append(incident["id"])
        if not resolved and events.configured:
            events.resolve(dedup_key=dedup_key)
            return PagerDutyClosed("rest", dedup_key, events_too=True)
        return PagerDutyClosed("rest", dedup_key, resolved)
    except IntegrationError as exc:
        raise _mapped(exc) from None


def pagerduty_acknowledge(*, dedup_key: str) -> str:
    try:
        return PagerDutyEventsClient().acknowledge(dedup_key=dedup_key)
    except IntegrationError as exc:
        raise _mapped(exc) from None


def pagerduty_oncall_names() -> list[str] | None:
    """Who is on call now (first level first), or None without a REST key (nothing to ask).
    Raises OutboundError when PagerDuty cannot say."""
    if not settings.PAGERDUTY_API_KEY:
        return None
    try:
        oncalls = PagerDutyRestClient(connect_timeout=1.0, read_timeout=2.0).oncalls(
            list(settings.PAGERDUTY_ESCALATION_POLICY_IDS)
        )
    except IntegrationError as exc:
        raise _mapped(exc) from None
    names: list[str] = []
    for entry in sorted(oncalls, key=lambda e: e.get("escalation_level") or 99):
        name = (entry.get("user") or {}).get("summary")
        if name and name not in names:
            names.append(name)
    return names


def email_send(
    *, to_setting: str, subject: str, body: str, attachments: list[tuple[str, str, str]] = ()
) -> str:
    """E-mail the address configured in `to_setting`; returns it."""
    to = getattr(settings, to_setting, "")
    if not to:
        raise OutboundError(f"not configured: set {to_setting} to notify by e-mail")
    message = EmailMessage(subject=subject, body=body, to=[to])
    for name, content, mimetype in attachments:
        message.attach(name, content, mimetype)
    try:
        message.send(fail_silently=False)
    except OSError as exc:  # SMTP down, refused, DNS: worth a retry
        raise TransientOutboundError(
            f"e-mail to {to_setting} failed: {type(exc).__name__}"
        ) from None
    return to
