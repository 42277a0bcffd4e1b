"""Campaign admin: Start / Stop / Replay, the live progress bar, test send toast, export,
and the Notifications page."""

import csv
import io

import pytest
from django.utils import timezone

from campaigns.models import Campaign, SendResult, Target
from integrations.models import ProbeResult

pytestmark = pytest.mark.django_db


def green_probe():
    ProbeResult.objects.create(
        key="whatsapp", label="WhatsApp", state="green", reason="ok", checked_at=timezone.now()
    )


def test_the_change_page_shows_progress_and_refetches_its_panel(
    client_for, ops_user, campaign_factory
):
    campaign = campaign_factory(4)
    Target.objects.filter(pk=Target.objects.filter(campaign=campaign).first().pk).update(
        status="sent"
    )
    client = client_for(ops_user)

    html = client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/")

    assert html.status_code == 200
    page = html.content.decode()
    panel_url = f"/admin/campaigns/campaign/{campaign.pk}/progress/"
    assert f'data-portal-refresh="{panel_url}"' in page
    assert '<progress id="campaign-progress-bar" max="4" value="1"' in page
    assert "sending — 1 of 4 sent" in page
    assert "Replay" in page and "Send test" in page

    fragment = client.get(panel_url).content.decode()
    assert fragment.lstrip().startswith('<section id="campaign-panel"')
    assert "sending — 1 of 4 sent" in fragment and "<html" not in fragment


def test_support_sees_progress_and_why_there_are_no_buttons(
    client_for, support_user, campaign_factory
):
    campaign = campaign_factory(1)
    page = client_for(support_user).get(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "campaign-progress-bar" in html
    assert 'id="campaign-stop"' not in html and 'id="campaign-send-test"' not in html
    assert "Stop, Replay dispatcher: needs the ops or admin role — ask in #ops." in html


@pytest.mark.parametrize(
    "action, start_state, end_state",
    [
        ("start", "draft", "running"),
        ("stop", "running", "paused"),
        ("replay", "running", "running"),
    ],
)
def test_buttons_call_the_same_services(
    client_for, ops_user, campaign_factory, action, start_state, end_state
):
    green_probe()
    campaign = campaign_factory(1, state=start_state)

    response = client_for(ops_user).post(
        f"/admin/campaigns/campaign/{campaign.pk}/control/{action}/"
    )

    assert response.status_code == 302
    assert Campaign.objects.get(pk=campaign.pk).state == end_state


def test_support_may_not_press_the_buttons(client_for, support_user, campaign_factory):
    campaign = campaign_factory(1)
    response = client_for(support_user).post(
        f"/admin/campaigns/campaign/{campaign.pk}/control/stop/"
    )
    assert response.status_code == 403
    assert Campaign.objects.get(pk=campaign.pk).state == "running"


def test_changelist_actions_start_and_stop(client_for, ops_user, campaign_factory):
    green_probe()
    a, b = campaign_factory(1, name="a", state="draft"), campaign_factory(1, name="b")
    client = client_for(ops_user)

    client.post(
        "/admin/campaigns/campaign/", {"action": "start_campaigns", "_selected_action": [a.pk]}
    )
    client.post(
        "/admin/campaigns/campaign/", {"action": "stop_campaigns", "_selected_action": [b.pk]}
    )

    assert Campaign.objects.get(pk=a.pk).state == "running"
    assert Campaign.objects.get(pk=b.pk).state == "paused"


def test_a_completed_campaign_start_says_it_does_nothing(client_for, ops_user, campaign_factory):
    green_probe()
    campaign = campaign_factory(0, state="completed")
    response = client_for(ops_user).post(
        f"/admin/campaigns/campaign/{campaign.pk}/control/start/", follow=True
    )
    assert "Start does nothing now: the campaign is completed." in response.content.decode()
    assert Campaign.objects.get(pk=campaign.pk).state == "completed"


def test_send_test_success_and_the_send_failed_toast(client_for, ops_user, campaign_factory, sim):
    campaign = campaign_factory(0, state="draft")
    client = client_for(ops_user)
    url = f"/admin/campaigns/campaign/{campaign.pk}/send-test/"

    ok = client.post(url, {"phone": "0788123456"}, follow=True).content.decode()
    assert "Test message sent (wamid." in ok

    sim.set_fault("whatsapp", invalid_numbers=["*"], invalid_mode="131026")
    failed = client.post(url, {"phone": "0788123456"}, follow=True).content.decode()
    assert '<li class="toast error">Test message failed — send_failed: 131026</li>' in failed
    results = list(
        SendResult.objects.filter(is_test=True).order_by("id").values_list("outcome", "error_code")
    )
    assert results == [("sent", ""), ("failed", "131026")]


def test_export_streams_failed_and_invalid_targets_only(
    client_for, ops_user, auditor_user, campaign_factory
):
    campaign = campaign_factory(5)
    ids = list(Target.objects.filter(campaign=campaign).values_list("pk", flat=True))
    Target.objects.filter(pk=ids[0]).update(
        status="failed", last_error_code="BOOT_ERROR", attempts=5
    )
    Target.objects.filter(pk=ids[1]).update(status="invalid", last_error_code="131026")
    Target.objects.filter(pk=ids[2]).update(status="sent")

    response = client_for(auditor_user).get(f"/api/campaigns/{campaign.pk}/failed-targets.csv")

    assert response.status_code == 200 and response.streaming
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["phone", "status", "attempts", "last_error_code"]
    assert [(r[1], r[3]) for r in rows[1:]] == [("failed", "BOOT_ERROR"), ("invalid", "131026")]


def test_export_without_the_permission_is_forbidden(client, django_user_model, campaign_factory):
    campaign = campaign_factory(1)
    nobody = django_user_model.objects.create_user("nobody", password="x" * 20, is_staff=True)
    client.force_login(nobody)
    response = client.get(f"/api/campaigns/{campaign.pk}/failed-targets.csv")
    assert (response.status_code, response.json()) == (403, {"error": "forbidden"})


def test_notifications_page_lists_results_filters_and_shows_failure_rates(
    client_for, support_user, campaign_factory, django_assert_max_num_queries
):
    campaign = campaign_factory(0)
    now = timezone.now()
    for outcome, code in [
        ("sent", ""),
        ("failed", "BOOT_ERROR"),
        ("invalid", "131026"),
        ("sent", ""),
    ]:
        SendResult.objects.create(
            at=now, campaign=campaign, phone="+250780000001", outcome=outcome, error_code=code
        )
    client = client_for(support_user)

    with django_assert_max_num_queries(12):
        page = client.get("/admin/campaigns/campaign/notifications/").content.decode()
    assert "last 5 min <b>50 %</b>" in page
    assert page.count('<tr class="outcome-') == 4

    filtered = client.get("/admin/campaigns/campaign/notifications/?error_code=131026")
    assert filtered.content.decode().count('<tr class="outcome-') == 1
    assert (
        client.get("/admin/campaigns/campaign/notifications/?campaign=x&before=y").status_code
        == 200
    )
