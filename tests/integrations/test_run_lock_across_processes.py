"""With a shared cache (Redis across processes), a forced run waits for another process's run."""

import threading

from django.core.cache import cache

from integrations import status


def test_forced_run_uses_the_run_another_process_is_finishing(everything_up, db):
    # Another process holds the run lock and publishes its result a moment later.
    assert cache.add(status.RUN_LOCK_KEY, "other-process", timeout=30)
    published = status._payload([])  # an empty run, recognisable below
    published["integrations"] = [{"key": "marker", "state": "green"}]

    def other_process_finishes():
        cache.set(status.CACHE_KEY, published, 60)
        cache.delete(status.RUN_LOCK_KEY)

    timer = threading.Timer(0.3, other_process_finishes)
    timer.start()
    try:
        result = status.probes_run(forced=True)
    finally:
        timer.cancel()
    assert result["integrations"] == [{"key": "marker", "state": "green"}]
    assert everything_up.calls("voucher_png") == []


def test_forced_run_probes_itself_when_the_other_run_never_finishes(everything_up, settings, db):
    settings.INTEGRATIONS_PROBE_TIMEOUT = 0.5
    assert cache.add(status.RUN_LOCK_KEY, "crashed-process", timeout=30)
    result = status.probes_run(forced=True)
    assert {i["key"] for i in result["integrations"]} >= {"voucher_png", "slack"}
    assert len(everything_up.calls("voucher_png")) == 1
