"""Under `make run`'s settings — the SQLite file, the ORM broker, a real qcluster, runserver,
the simulator answering every send after 150 ms — people log in while a campaign sends: every
login answers, in under a second, and none fails with "database is locked". The campaign
then completes with every target sent exactly once (SQLite's claim → commit → send → write).

The dispatcher used to hold SQLite's single write lock across a whole batch of sends, so a
login waited for the batch (10–23 s) and then gave up with a 500. This is a behaviour test
with a generous bound (a login takes ~50 ms here); tests/bench has no figure for it.
"""

import time

import httpx
import pytest

from tests.sqlite_stack import PASSWORD, SqliteStack, timed_login

pytestmark = pytest.mark.slow

LOGINS = 12
TARGETS = 600


@pytest.fixture
def stack(simulator, tmp_path):
    simulator.set_fault("whatsapp", latency_ms=150)
    stack = SqliteStack(sim=simulator, log_dir=tmp_path)
    try:
        yield stack.start(targets=TARGETS, throttle_per_minute=6000)
    finally:
        stack.stop()


def test_logins_stay_fast_while_a_campaign_sends(stack, simulator):
    deadline = time.monotonic() + 60
    while simulator.sent_total() < 20:  # the worker has taken the campaign up
        assert time.monotonic() < deadline, (stack.log_dir / "sqlite-worker.log").read_text()
        time.sleep(0.2)
    sent_before = simulator.sent_total()

    results = []
    for i in range(LOGINS):
        results.append(timed_login(stack.url, "sam-support" if i % 2 else "olga-ops"))
        time.sleep(0.3)

    assert [status for status, _ in results] == [302] * LOGINS, results
    slowest = max(seconds for _, seconds in results)
    assert slowest < 1.0, f"slowest login {slowest:.2f} s: {results}"
    deadline = time.monotonic() + 30
    while simulator.sent_total() < sent_before + 20:  # it kept sending meanwhile
        assert time.monotonic() < deadline, "the campaign stopped sending"
        time.sleep(0.2)

    simulator.set_fault("whatsapp")  # no more latency: let it finish
    deadline = time.monotonic() + 120
    while simulator.sent_total() < TARGETS:
        assert time.monotonic() < deadline, (stack.log_dir / "sqlite-worker.log").read_text()
        time.sleep(0.5)
    with httpx.Client(base_url=stack.url, timeout=30) as ops:
        ops.get("/admin/login/")
        ops.post(
            "/admin/login/",
            data={
                "username": "olga-ops",
                "password": PASSWORD,
                "csrfmiddlewaretoken": ops.cookies["csrftoken"],
            },
        )
        while (status := ops.get(f"/api/campaigns/{stack.campaign_id}/status").json())[
            "state"
        ] != "completed":
            assert time.monotonic() < deadline, status
            time.sleep(0.5)
    assert status["counts"] == {"pending": 0, "sent": TARGETS, "failed": 0, "invalid": 0}
    assert simulator.state()["duplicates"] == {}  # no target was claimed twice
