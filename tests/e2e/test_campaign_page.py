"""The campaign page in a browser, as ops: Start on a draft campaign really starts it (the
campaign runs and the simulator receives its sends) and the buttons follow the state; an
unusable upload is a message on the page, a number with letters an invalid row; the list
shows each campaign's state in words and its progress."""

from campaigns.models import Campaign, Target
from tests.e2e.readable import serious_violations


def _draft(name: str, targets: int, throttle: int = 600) -> Campaign:
    campaign = Campaign.objects.create(
        name=name,
        template="fuel_promo_v2",
        template_variables={"discount": "10%"},
        throttle_per_minute=throttle,
        time_zone="Africa/Kigali",
    )
    Target.objects.bulk_create(
        [Target(campaign=campaign, phone=f"+25079{campaign.pk:03d}{i:04d}") for i in range(targets)]
    )
    return campaign


def test_start_starts_and_the_simulator_receives_the_sends(login, portal, worker, shot):
    campaign = _draft("E2E: Start from the page", targets=30)
    page = login("olga-ops")
    page.goto(portal(f"/admin/campaigns/campaign/{campaign.pk}/change/"))
    panel = page.locator("#campaign-panel")
    assert panel.locator("#campaign-start button").is_visible()
    assert panel.locator("#campaign-stop").count() == 0
    assert "draft — not started, 30 targets" in panel.inner_text()

    panel.locator("#campaign-start button").click()
    page.wait_for_load_state()

    assert "started" in page.locator("ul.messagelist").inner_text()
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.RUNNING
    prefix = f"campaign-{campaign.pk}-target-"
    page.wait_for_function(
        "() => /sending|complete/.test(document.querySelector('#campaign-panel').textContent)"
    )
    for _ in range(300):
        if any(s["idempotency_key"].startswith(prefix) for s in portal.sim.send_log):
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError("the simulator received no send of the started campaign")
    panel = page.locator("#campaign-panel")
    assert panel.locator("#campaign-start").count() == 0  # buttons follow the state
    assert panel.locator("#campaign-stop button").is_visible() or "complete" in panel.inner_text()
    assert serious_violations(page) == []
    shot(page, "running", readme="campaign")


def test_upload_errors_are_messages_and_letters_are_invalid_rows(login, portal, shot):
    campaign = _draft("E2E: uploads", targets=0)
    page = login("olga-ops")
    upload = portal(f"/admin/campaigns/campaign/{campaign.pk}/upload/")

    page.goto(upload)
    page.set_input_files(
        "input[name=file]",
        files=[
            {
                "name": "targets.xlsx",
                "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "buffer": b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 8,
            }
        ],
    )
    page.click("#content-main [type=submit]")
    page.wait_for_load_state()
    assert "Excel workbook" in page.locator("ul.messagelist .error").inner_text()
    assert page.locator("input[name=file]").is_visible()  # still on the upload page

    page.set_input_files(
        "input[name=file]",
        files=[{"name": "t.csv", "mimeType": "text/csv", "buffer": b"phone\n0788-BAD-NUM\n"}],
    )
    page.click("#content-main [type=submit]")
    page.wait_for_load_state()
    assert "letters in a phone number" in page.locator("#content-main table").inner_text()
    assert not Target.objects.filter(campaign=campaign).exists()
    shot(page, "invalid-row")


def test_the_list_shows_state_in_words_and_progress(login, portal, shot):
    campaign = _draft("E2E: listed", targets=4)
    Target.objects.filter(pk__in=campaign.targets.values("pk")[:1]).update(status="sent")
    page = login("sam-support")
    page.goto(portal("/admin/campaigns/campaign/"))
    cell = page.locator(".campaign-progress-cell[data-total='4']").first
    assert "1 / 4 sent" in cell.inner_text()
    assert page.locator("span.pill", has_text="draft — not started, 4 targets").count() >= 1
    assert serious_violations(page) == []
    shot(page, "list", readme="campaigns")
