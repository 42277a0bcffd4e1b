"""The campaign page offers only the controls that do something in the campaign's state
(campaigns/controls.py), as forms that live outside the change form, and the admin's control
view and the services refuse what the page would not offer."""

from html.parser import HTMLParser

import pytest
from django.utils import timezone

from audit.models import AuditEntry
from campaigns import services
from campaigns.errors import InvalidState
from campaigns.models import Campaign
from integrations.models import ProbeResult

pytestmark = pytest.mark.django_db

# state → (the state-changing buttons shown to ops, upload and send test offered)
EXPECTED = {
    "draft": ({"start"}, True),
    "paused": ({"start", "replay"}, True),
    "running": ({"stop", "replay"}, True),
    "completed": (set(), False),
}


class Forms(HTMLParser):
    """Every <form>'s id, and whether one opened while another was still open."""

    def __init__(self):
        super().__init__()
        self.depth, self.ids, self.nested = 0, [], []

    def handle_starttag(self, tag, attrs):
        if tag == "form":
            if self.depth:
                self.nested.append(dict(attrs).get("id"))
            self.depth += 1
            self.ids.append(dict(attrs).get("id"))

    def handle_endtag(self, tag):
        if tag == "form":
            self.depth -= 1


def page(client, campaign) -> tuple[str, Forms]:
    html = client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/").content.decode()
    forms = Forms()
    forms.feed(html)
    return html, forms


@pytest.mark.parametrize("state", list(EXPECTED))
def test_ops_sees_only_the_controls_that_apply(client_for, ops_user, campaign_factory, state):
    campaign = campaign_factory(2, state=state)
    buttons, editable = EXPECTED[state]

    html, forms = page(client_for(ops_user), campaign)

    shown = {i.removeprefix("campaign-") for i in forms.ids if i} & {"start", "stop", "replay"}
    assert shown == buttons
    assert ("Upload targets" in html) is editable
    assert ('id="campaign-send-test"' in html) is editable
    assert "Export failed/invalid" in html  # always, completed included


def test_no_control_form_sits_inside_the_change_form(client_for, ops_user, campaign_factory):
    _, forms = page(client_for(ops_user), campaign_factory(2, state="draft"))
    assert "campaign-start" in forms.ids and "campaign-send-test" in forms.ids
    assert forms.nested == []


def test_a_control_that_does_not_apply_changes_nothing(client_for, ops_user, campaign_factory):
    campaign = campaign_factory(2, state="draft")
    response = client_for(ops_user).post(
        f"/admin/campaigns/campaign/{campaign.pk}/control/stop/", follow=True
    )
    assert "Stop does nothing now: the campaign is draft." in response.content.decode()
    assert Campaign.objects.get(pk=campaign.pk).state == "draft"
    assert not AuditEntry.objects.filter(action__startswith="campaign.").exists()


def test_the_services_follow_the_same_rule(ops_user, campaign_factory):
    ProbeResult.objects.create(
        key="whatsapp", label="WhatsApp", state="green", reason="ok", checked_at=timezone.now()
    )
    completed = campaign_factory(0, state="completed")
    draft = campaign_factory(1, state="draft")
    for call in (
        lambda: services.campaign_start(campaign_id=completed.pk, actor=ops_user),
        lambda: services.campaign_replay(campaign_id=completed.pk, actor=ops_user),
        lambda: services.campaign_replay(campaign_id=draft.pk, actor=ops_user),
        lambda: services.campaign_send_test(
            campaign_id=completed.pk, phone="0788123456", actor=ops_user
        ),
    ):
        with pytest.raises(InvalidState):
            call()
    assert Campaign.objects.get(pk=draft.pk).state == "draft"


def test_the_api_keeps_its_contract_for_no_op_calls(client_for, ops_user, campaign_factory):
    running = campaign_factory(1, state="running")
    paused = campaign_factory(1, state="paused")
    client = client_for(ops_user)
    assert client.post(f"/api/campaigns/{running.pk}/start").status_code == 200
    assert client.post(f"/api/campaigns/{paused.pk}/stop").status_code == 200
    assert Campaign.objects.get(pk=paused.pk).state == "paused"
