"""Login latency under `make run`'s settings (`make bench`): the SQLite file, the ORM broker, a
real qcluster and runserver, the simulator answering sends after 150 ms. Prints p50 / p95 /
max of BENCH_LOGINS logins (default 40) with no campaign, then while a campaign sends.
The behaviour test with a 1 s bound is tests/campaigns/test_login_while_sending_on_sqlite.py.
"""

import os
import statistics
import time

import pytest

from tests.sqlite_stack import SqliteStack, timed_login

LOGINS = int(os.environ.get("BENCH_LOGINS", "40"))


@pytest.fixture
def simulator():
    from devtools.simulator.server import start_simulator

    sim = start_simulator(port=0)
    sim.set_fault("whatsapp", latency_ms=150)
    yield sim
    sim.stop()


def _figures(label: str, url: str) -> None:
    seconds = []
    for i in range(LOGINS):
        status, took = timed_login(url, "sam-support" if i % 2 else "olga-ops")
        assert status == 302, status
        seconds.append(took * 1000)
        time.sleep(0.1)
    seconds.sort()
    p95 = seconds[max(0, int(len(seconds) * 0.95) - 1)]
    print(
        f"\n{label}: {LOGINS} logins, p50 {statistics.median(seconds):.0f} ms, "
        f"p95 {p95:.0f} ms, max {seconds[-1]:.0f} ms"
    )


@pytest.mark.parametrize("sending", [False, True], ids=["idle", "while-sending"])
def test_login_latency_on_sqlite(simulator, tmp_path, sending):
    stack = SqliteStack(sim=simulator, log_dir=tmp_path)
    try:
        stack.start(targets=20_000 if sending else 0, throttle_per_minute=6000)
        if sending:
            while simulator.sent_total() < 20:
                time.sleep(0.2)
        _figures("while a campaign sends" if sending else "idle", stack.url)
    finally:
        stack.stop()
