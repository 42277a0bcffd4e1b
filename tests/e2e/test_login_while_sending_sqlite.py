"""A person logs in through the browser while a campaign sends, under `make run`'s settings
(the SQLite file, the ORM broker, a real qcluster, runserver, the simulator answering every
send after 150 ms): the login form's answer comes in under a second, never a 500."""

import time

import pytest

from tests.e2e.conftest import ARTIFACTS
from tests.sqlite_stack import PASSWORD, SqliteStack


@pytest.fixture
def sqlite_stack():
    from devtools.simulator.server import start_simulator

    simulator = start_simulator(port=0)
    simulator.set_fault("whatsapp", latency_ms=150)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stack = SqliteStack(sim=simulator, log_dir=ARTIFACTS)
    try:
        yield stack.start(targets=2000, throttle_per_minute=6000), simulator
    finally:
        stack.stop()
        simulator.stop()


def test_login_during_a_sending_campaign_answers_in_under_a_second(browser, sqlite_stack, shot):
    stack, simulator = sqlite_stack
    deadline = time.monotonic() + 60
    while simulator.sent_total() < 20:
        assert time.monotonic() < deadline, "the worker never started sending"
        time.sleep(0.2)

    sent_before = simulator.sent_total()
    timings = []
    for person in ("sam-support", "olga-ops", "sam-support"):
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(stack.url + "/admin/login/?next=/admin/")
            page.fill("#id_username", person)
            page.fill("#id_password", PASSWORD)
            started = time.monotonic()
            with page.expect_response(
                lambda r: "/admin/login/" in r.url and r.request.method == "POST"
            ) as answer:
                page.click("#login-form [type=submit]")
            timings.append((answer.value.status, time.monotonic() - started))
            page.wait_for_url(stack.url + "/admin/")
            if person == "olga-ops":
                shot(page, "front-page-while-sending")
        finally:
            context.close()

    assert [status for status, _ in timings] == [302, 302, 302], timings
    assert max(seconds for _, seconds in timings) < 1.0, timings
    deadline = time.monotonic() + 30
    while simulator.sent_total() < sent_before + 20:  # and the campaign kept sending
        assert time.monotonic() < deadline, "the campaign stopped sending"
        time.sleep(0.2)
