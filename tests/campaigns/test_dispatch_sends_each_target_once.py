import pytest

from audit.models import AuditEntry
from campaigns.models import Campaign, SendResult, Target
from tests.campaigns.conftest import key

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_running_campaign_sends_every_target_once_and_completes(sim, campaign_factory, dispatch):
    campaign = campaign_factory(25)

    results = dispatch(campaign.pk)

    assert results[-1].reason == "completed"
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.COMPLETED
    assert campaign.last_progress_at is not None
    targets = list(Target.objects.filter(campaign=campaign))
    assert {t.status for t in targets} == {"sent"}
    assert all(t.provider_message_id.startswith("wamid.") for t in targets)
    assert all(sim.send_count(key(campaign, t)) == 1 for t in targets)
    assert sim.sent_total() == 25
    assert sim.state()["duplicates"] == {}
    # The request carried the per-target variables and the campaign's template.
    body = sim.calls("whatsapp", "POST")[0]["body"]
    assert body["template"] == "promo_v1" and "n" in body["variables"]
    assert SendResult.objects.filter(campaign=campaign, outcome="sent").count() == 25
    # Completion is audited once, even when another slice finds nothing left to send.
    assert dispatch(campaign.pk)[-1].reason == "not_running"
    completed = AuditEntry.objects.filter(action="campaign.completed", target_id=str(campaign.pk))
    assert completed.count() == 1


def test_a_paused_campaign_sends_nothing(sim, campaign_factory, dispatch):
    campaign = campaign_factory(5, state="paused")

    results = dispatch(campaign.pk)

    assert results[-1].reason == "not_running"
    assert sim.calls("whatsapp", "POST") == []
