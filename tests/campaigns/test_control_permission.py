"""Who may control campaigns is the services' rule: start, stop, replay, pause-all and
reschedule refuse anyone without `campaigns.control_campaign`, whatever calls them (the
API, the admin, a runbook action); the system (actor None) may."""

import pytest
from django.core.exceptions import PermissionDenied

from audit.models import AuditEntry
from campaigns import services
from campaigns.models import Campaign

pytestmark = pytest.mark.django_db

CONTROL = [
    lambda c, actor: services.campaign_start(campaign_id=c.pk, actor=actor),
    lambda c, actor: services.campaign_stop(campaign_id=c.pk, actor=actor),
    lambda c, actor: services.campaign_replay(campaign_id=c.pk, actor=actor),
    lambda c, actor: services.campaigns_pause_running(actor=actor),
    lambda c, actor: services.campaign_reschedule_after(campaign_id=c.pk, seconds=60, actor=actor),
]


@pytest.mark.parametrize(
    "call", CONTROL, ids=["start", "stop", "replay", "pause_all", "reschedule"]
)
@pytest.mark.parametrize("persona", ["support_user", "auditor_user"])
def test_readers_are_refused_and_nothing_changes(request, campaign_factory, call, persona):
    campaign = campaign_factory(2, state="running")
    with pytest.raises(PermissionDenied):
        call(campaign, request.getfixturevalue(persona))
    after = Campaign.objects.get(pk=campaign.pk)
    assert (after.state, after.backoff_until) == ("running", None)
    assert not AuditEntry.objects.filter(action__startswith="campaign.").exists()


@pytest.mark.parametrize("persona", ["ops_user", "admin_user"])
def test_ops_and_admin_may_control(request, campaign_factory, persona):
    campaign = campaign_factory(1, state="running")
    user = request.getfixturevalue(persona)
    assert services.campaign_control_allowed(actor=user)
    assert services.campaign_stop(campaign_id=campaign.pk, actor=user).state == "paused"


def test_the_system_may_control(campaign_factory):
    campaign = campaign_factory(1, state="running")
    assert services.campaigns_pause_running(actor=None) == [campaign.pk]
