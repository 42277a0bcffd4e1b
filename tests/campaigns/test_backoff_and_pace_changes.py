"""Runbook 3.1/5.2 and pace edits, through the dispatcher against the simulator: the
provider's Retry-After is remembered for the campaign; a backoff running at a pause survives
the resume; quiet hours and throttle changed in the admin take effect at the next slice."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from campaigns.models import Campaign, SendResult
from campaigns.services import campaign_reschedule_after, campaign_start, campaign_stop

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_providers_retry_after_is_remembered_after_its_backoff_ends(
    sim, campaign_factory, dispatch
):
    campaign = campaign_factory(3)
    sim.set_fault("whatsapp", status=429, retry_after=1, times=1)
    assert dispatch(campaign.pk)[-1].reason == "completed"
    campaign.refresh_from_db()
    assert campaign.provider_retry_after == 1.0 and campaign.provider_retry_after_at is not None


def test_a_backoff_set_before_a_pause_survives_the_resume(
    sim, campaign_factory, dispatch, ops_user
):
    campaign = campaign_factory(3)
    held = campaign_reschedule_after(campaign_id=campaign.pk, seconds=600, actor=ops_user)
    campaign_stop(campaign_id=campaign.pk, actor=ops_user)
    resumed = campaign_start(campaign_id=campaign.pk, actor=ops_user)
    assert resumed.backoff_until == held.backoff_until
    assert resumed.next_send_at == held.backoff_until and resumed.backoff_retry_after == 600
    [result] = dispatch(campaign.pk)
    assert result.reason == "waiting" and result.wake_at == held.backoff_until
    assert not SendResult.objects.filter(campaign=campaign).exists()
    assert not sim.calls("whatsapp", "POST")


def test_a_backoff_already_over_does_not_carry_over_a_resume(
    sim, campaign_factory, dispatch, ops_user
):
    campaign = campaign_factory(2)
    Campaign.objects.filter(pk=campaign.pk).update(
        backoff_until=timezone.now() - dt.timedelta(seconds=1), backoff_level=3
    )
    campaign_stop(campaign_id=campaign.pk, actor=ops_user)
    resumed = campaign_start(campaign_id=campaign.pk, actor=ops_user)
    assert (resumed.backoff_until, resumed.backoff_level, resumed.next_send_at) == (None, 0, None)
    assert dispatch(campaign.pk)[-1].reason == "completed"


def _edit_pace(client, campaign, **pace):
    """The admin's change form, as a person saves it."""
    data = {
        "name": campaign.name,
        "template": campaign.template,
        "template_language": campaign.template_language,
        "template_variables": "{}",
        "throttle_per_minute": campaign.throttle_per_minute,
        "quiet_hours_start": "",
        "quiet_hours_end": "",
        "time_zone": "UTC",
        **pace,
    }
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    response = client.post(url, data)
    assert response.status_code == 302, response.content[:2000]


def _quiet_now() -> dict:
    now = timezone.now()
    start, end = now - dt.timedelta(hours=1), now + dt.timedelta(hours=2)
    return {"quiet_hours_start": f"{start:%H:%M}", "quiet_hours_end": f"{end:%H:%M}"}


def test_quiet_hours_changed_on_a_running_campaign_apply_at_its_next_slice(
    sim, campaign_factory, dispatch, client_for, ops_user
):
    quiet = {name: dt.time.fromisoformat(value) for name, value in _quiet_now().items()}
    campaign = campaign_factory(4, **quiet)
    [waiting] = dispatch(campaign.pk)
    campaign.refresh_from_db()
    assert waiting.reason == "waiting" and campaign.next_send_at > timezone.now()

    client = client_for(ops_user)
    _edit_pace(client, campaign)  # quiet hours removed
    campaign.refresh_from_db()
    assert campaign.next_send_at is None  # the old wait is dropped; a slice is queued
    assert AuditEntry.objects.filter(action="admin.changed", target_id=str(campaign.pk)).exists()
    assert dispatch(campaign.pk)[-1].reason == "completed"

    again = campaign_factory(4, name="Second")
    _edit_pace(client, again, **_quiet_now())  # quiet hours now, while it runs
    [result] = dispatch(again.pk)
    assert result.reason == "waiting" and result.sent == 0


def test_a_throttle_changed_on_a_running_campaign_applies_at_its_next_slice(
    sim, campaign_factory, dispatch, client_for, ops_user
):
    campaign = campaign_factory(40, throttle_per_minute=600)
    first = dispatch(campaign.pk, slice_seconds=0.5, max_slices=1)[0]
    assert first.reason == "slice_end" and first.sent > 1  # ten a second
    _edit_pace(client_for(ops_user), campaign, throttle_per_minute=1)
    second = dispatch(campaign.pk, slice_seconds=2, max_slices=1)[0]
    assert second.sent == 1  # one a minute: the next slot is a minute away
