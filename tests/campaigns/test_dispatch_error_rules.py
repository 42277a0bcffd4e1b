"""The error rules of issue 5, each against the simulator over real sockets."""

import time

import pytest

from campaigns.models import Campaign, SendResult, Target
from campaigns.services import campaign_reschedule_after
from tests.campaigns.conftest import dispatch_in_thread, key, phone

pytestmark = pytest.mark.django_db(transaction=True)
IN_FLIGHT = 0.3  # a send already on the wire when the throttling answer came back


def _posts_for(sim, campaign, target):
    k = key(campaign, target)
    return [
        c for c in sim.calls("whatsapp", "POST") if (c["body"] or {}).get("idempotency_key") == k
    ]


@pytest.mark.parametrize("mode", ["422", "131026"])
def test_invalid_numbers_become_invalid_and_are_never_retried(
    sim, campaign_factory, dispatch, mode
):
    campaign = campaign_factory(6)
    bad = [phone(1), phone(4)]
    sim.set_fault("whatsapp", invalid_numbers=bad, invalid_mode=mode)

    assert dispatch(campaign.pk)[-1].reason == "completed"

    for target in Target.objects.filter(campaign=campaign):
        if target.phone in bad:
            assert target.status == "invalid"
            assert target.last_error_code == ("invalid_number" if mode == "422" else "131026")
            assert len(_posts_for(sim, campaign, target)) == 1
        else:
            assert target.status == "sent"
    assert SendResult.objects.filter(campaign=campaign, outcome="invalid").count() == 2


def test_5xx_is_retried_a_bounded_number_of_times_then_failed_with_its_code(
    sim, campaign_factory, dispatch, settings
):
    settings.CAMPAIGN_MAX_ATTEMPTS = 3
    campaign = campaign_factory(4)
    sim.set_fault("whatsapp", status=503, numbers=[phone(2)])

    assert dispatch(campaign.pk)[-1].reason == "completed"

    failed = Target.objects.get(campaign=campaign, phone=phone(2))
    assert failed.status == "failed"
    assert failed.attempts == 3
    assert failed.last_error_code == "BOOT_ERROR"  # the platform's sb-error-code for a 503
    assert len(_posts_for(sim, campaign, failed)) == 3
    assert Target.objects.filter(campaign=campaign, status="sent").count() == 3
    outcomes = list(
        SendResult.objects.filter(target=failed).order_by("id").values_list("outcome", flat=True)
    )
    assert outcomes == ["retry", "retry", "failed"]


def test_5xx_then_recovery_sends_on_a_later_attempt(sim, campaign_factory, dispatch):
    campaign = campaign_factory(3)
    sim.set_fault("whatsapp", status=500, numbers=[phone(0)], times=1)

    assert dispatch(campaign.pk)[-1].reason == "completed"

    target = Target.objects.get(campaign=campaign, phone=phone(0))
    assert (target.status, target.attempts) == ("sent", 2)


def test_429_with_retry_after_pauses_the_whole_campaign_then_resumes(
    sim, campaign_factory, dispatch
):
    # 10/s: every send is 100 ms after the previous one, so the pause must show in the log.
    campaign = campaign_factory(12, throttle_per_minute=600)
    sim.set_fault("whatsapp", status=429, retry_after=2, times=1)

    assert dispatch(campaign.pk)[-1].reason == "completed"

    posts = sorted(sim.calls("whatsapp", "POST"), key=lambda c: c["at"])
    throttled = [c for c in posts if c["status"] == 429]
    assert len(throttled) == 1
    t429 = throttled[0]["at"]
    # Sends already on the wire when the 429 came back may land just after it (in flight);
    # after that, nothing reaches the EF until Retry-After has elapsed.
    in_flight = [c for c in posts if t429 < c["at"] <= t429 + IN_FLIGHT]
    held = [c for c in posts if t429 + IN_FLIGHT < c["at"] < t429 + 2 - 0.05]
    assert len(in_flight) <= 2 and held == []
    assert [c for c in posts if c["at"] >= t429 + 2 - 0.05], "the campaign resumed"
    throttled_key = throttled[0]["body"]["idempotency_key"]
    target = Target.objects.get(pk=int(throttled_key.rsplit("-", 1)[1]))
    assert target.status == "sent"  # rescheduled, not failed
    assert target.attempts == 1
    assert Target.objects.filter(campaign=campaign, status="sent").count() == 12
    assert SendResult.objects.filter(outcome="rescheduled", error_code="429").count() == 1


@pytest.mark.parametrize("wa_status", [429, 400])
def test_whatsapp_throttling_code_backs_off_whatever_the_http_status(
    sim, campaign_factory, dispatch, wa_status, settings
):
    settings.CAMPAIGN_BACKOFF_BASE_SECONDS = 1.0
    campaign = campaign_factory(4, throttle_per_minute=600)
    sim.set_fault("whatsapp", wa_code=130429, wa_status=wa_status, times=1)

    assert dispatch(campaign.pk)[-1].reason == "completed"

    posts = sorted(sim.calls("whatsapp", "POST"), key=lambda c: c["at"])
    first = next(c for c in posts if c["status"] == wa_status)
    # No Retry-After: the exponential default (1 s base here) still holds everyone back.
    held = [c for c in posts if first["at"] + IN_FLIGHT < c["at"] < first["at"] + 1 - 0.05]
    assert held == []
    assert Target.objects.filter(campaign=campaign, status="sent").count() == 4


def test_131056_reschedules_only_that_recipient(sim, campaign_factory, dispatch, monkeypatch):
    monkeypatch.setattr("campaigns.outcomes.RECIPIENT_RETRY_SECONDS", 1.0)
    campaign = campaign_factory(5, throttle_per_minute=600)
    sim.set_fault("whatsapp", wa_code=131056, numbers=[phone(0)], times=1)

    assert dispatch(campaign.pk)[-1].reason == "completed"

    posts = sorted(sim.calls("whatsapp", "POST"), key=lambda c: c["at"])
    first = next(c for c in posts if c["status"] == 400)
    assert first["body"]["to"] == phone(0)
    # The others went on at the normal pace, all before that recipient's retry.
    others = [c for c in posts if c["body"]["to"] != phone(0)]
    retried = [c for c in posts if c["body"]["to"] == phone(0) and c is not first]
    assert len(retried) == 1 and retried[0]["at"] >= first["at"] + 1.0 - 0.05
    assert len(others) == 4 and all(c["at"] < retried[0]["at"] for c in others)
    campaign.refresh_from_db()
    assert campaign.backoff_until is None
    assert Target.objects.filter(campaign=campaign, status="sent").count() == 5
    assert Campaign.objects.get(pk=campaign.pk).state == "completed"


def test_a_reschedule_from_a_runbook_holds_a_running_slice(
    sim, campaign_factory, dispatch, ops_user
):
    campaign = campaign_factory(30, throttle_per_minute=600)
    worker, results = dispatch_in_thread(dispatch, campaign.pk)
    while sim.sent_total() < 3:
        time.sleep(0.02)
    campaign_reschedule_after(campaign_id=campaign.pk, seconds=1.5, actor=ops_user)
    held_at = time.time()
    worker.join(30)

    posts = sorted(c["at"] for c in sim.calls("whatsapp", "POST"))
    # After one coordinator tick (0.2 s) plus in-flight sends, nothing until the hold ends.
    gap = [t for t in posts if held_at + 0.4 < t < held_at + 1.5 - 0.05]
    assert gap == []
    assert results[-1].reason == "completed" and len(posts) == 30
