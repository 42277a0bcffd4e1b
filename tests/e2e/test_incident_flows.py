"""Incidents as people work them, with the worker running the steps:

- support opens a WhatsApp Send Failures incident from the front page and runs the safe
  step; the pause step is ops' (ARCHITECTURE.md roles: pausing campaigns is an operational
  action), so support sees no Run button on it and ops runs it: the running campaign pauses;
- ops replays the dispatcher of a stalled campaign from a Dispatcher Stalls incident and
  watches the campaign page's progress advance without reloading.
"""

import re

from campaigns.models import Campaign
from tests.e2e import seed

STEP_DONE_TIMEOUT = 60_000  # ms: the worker polls, runs the action, the page refreshes itself


def _open_incident(page, *, runbook: str, title: str, campaigns: str = "") -> int:
    page.click("#fp-incidents a.addlink")  # "Open an incident" on the front page
    page.select_option("select[name=runbook]", runbook)
    page.fill("input[name=title]", title)
    if campaigns:
        page.fill("input[name=campaigns]", campaigns)
    page.click("button:has-text('Open incident')")
    page.wait_for_url(re.compile(r".*/admin/incidents/incident/(\d+)/work/$"))
    return int(re.search(r"/incident/(\d+)/work/", page.url).group(1))


def _run_step(page, key: str) -> None:
    row = page.locator(f"#step-{key}")
    row.locator("button[name=op][value=run]").click()
    page.wait_for_load_state()
    # The incident page refreshes itself while a run is queued or running (E's meta refresh).
    page.locator(f"#step-{key} .st-done").first.wait_for(timeout=STEP_DONE_TIMEOUT)


def test_support_opens_a_whatsapp_incident_and_ops_runs_the_pause_step(login, portal, worker, shot):
    campaign = seed.campaign_started(name="E2E: sends to pause", targets=80, throttle_per_minute=6)
    support = login("sam-support")
    incident_id = _open_incident(
        support,
        runbook="whatsapp_send",
        title="WhatsApp sends failing: 429 from the EF",
        campaigns=str(campaign.pk),
    )
    assert support.locator("#step-pause_all").count() == 1
    assert support.locator("#step-pause_all button[value=run]").count() == 0  # ops' action
    _run_step(support, "check_settings")  # safe: support may run it
    assert "Needs attention" not in support.locator("#step-check_settings").inner_text()
    support.fill("textarea[name=text]", "Customers report no promo messages since 09:00.")
    support.click("button:has-text('Add note')")
    assert "no promo messages" in support.locator("#content-main").inner_text()

    ops = login("olga-ops")
    ops.goto(portal(f"/admin/incidents/incident/{incident_id}/work/"))
    _run_step(ops, "pause_all")
    log = ops.locator("#step-pause_all pre.log").first.inner_text()
    assert re.search(rf"paused \d+ campaign\(s\): \[.*\b{campaign.pk}\b.*\]", log), log
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.PAUSED
    timeline = ops.locator("#timeline").inner_text()
    assert "sam-support" in timeline and "olga-ops" in timeline
    shot(ops, "incident-mid-runbook", readme="incident")


def test_ops_replays_the_dispatcher_and_watches_progress_advance(login, portal, worker, shot):
    campaign = seed.campaign_started(name="E2E: stalled sends", targets=200, throttle_per_minute=60)
    # The stall: the campaign is left paused mid-way, as a dead dispatcher would leave it.
    from campaigns.services import campaign_stop

    campaign_stop(campaign_id=campaign.pk, actor=seed.person("olga-ops"))
    before = seed.sent_count(campaign)

    ops = login("olga-ops")
    _open_incident(
        ops, runbook="dispatcher_stall", title="Campaign not advancing", campaigns=str(campaign.pk)
    )
    replay = ops.locator("#step-replay")
    assert replay.locator("input[name=param_campaign_id]").input_value() == str(campaign.pk)
    _run_step(ops, "replay")
    shot(ops, "replayed")

    ops.goto(portal(f"/admin/campaigns/campaign/{campaign.pk}/change/"))
    sent = ops.locator("#campaign-progress [data-k=sent]")
    first = int(sent.inner_text())
    assert first >= before
    # The page polls the status endpoint: the count moves on without a reload.
    ops.wait_for_function(
        "n => Number(document.querySelector('#campaign-progress [data-k=sent]').textContent) > n",
        arg=first + 1,
        timeout=60_000,
    )
    assert ops.locator("#campaign-progress [data-k=state]").inner_text() == "running"
    shot(ops, "progress-advancing")
