"""Test sends: one template message to one number now, recorded as a test SendResult.

A person's test send of a campaign (`campaign_send_test`) and the WhatsApp runbook's
"EF returns 202" gate (a send to the configured WHATSAPP_TEST_NUMBER) both come here, so
each is a real call to the send function and a 202 is the only thing that counts as sent.
"""

import datetime as dt
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone

import audit
from campaigns.models import Campaign, SendResult
from campaigns.outcomes import error_code_of
from integrations.clients.edge_functions import SendWhatsAppClient
from integrations.errors import IntegrationError


def send_recorded(
    *, to: str, template: str, variables: dict, language: str, campaign: Campaign | None, actor
) -> SendResult:
    """Send now; the SendResult says `sent` (the EF answered 202) or `failed` (its code)."""
    code, message_id = "", ""
    prefix = f"campaign-{campaign.pk}" if campaign else "gate"
    try:
        message_id = SendWhatsAppClient().send(
            to=to,
            template=template,
            variables=variables,
            idempotency_key=f"{prefix}-test-{uuid.uuid4().hex}",
            language=language,
        )
    except IntegrationError as exc:
        code = error_code_of(exc)
    with transaction.atomic():
        result = SendResult.objects.create(
            at=timezone.now(),
            campaign=campaign,
            phone=to,
            is_test=True,
            outcome=SendResult.Outcome.FAILED if code else SendResult.Outcome.SENT,
            error_code=code,
            message_id=message_id,
        )
        audit.record(
            action="campaign.send_test",
            actor=actor,
            target=campaign or result,
            data={"to": to, "outcome": result.outcome, "error_code": code},
        )
    return result


def whatsapp_test_send_due(*, since: dt.datetime, every: dt.timedelta) -> SendResult | None:
    """A test send to WHATSAPP_TEST_NUMBER, unless one went out within `every` (the gate
    sweep must not text the test phone every few seconds); None when no number is set."""
    number = settings.WHATSAPP_TEST_NUMBER
    if not number:
        return None
    recent = SendResult.objects.filter(
        is_test=True, phone=number, at__gte=max(since, timezone.now() - every)
    ).first()
    if recent is not None:
        return recent
    return send_recorded(
        to=number,
        template=settings.WHATSAPP_TEST_TEMPLATE,
        variables={},
        language="en",
        campaign=None,
        actor=None,
    )
