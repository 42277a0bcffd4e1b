"""?force=true: bounded even when an EF hangs; concurrent forced requests share one run."""

import threading
import time

import pytest
from django.db import connection
from django.test import Client

URL = "/api/integrations/status"


@pytest.mark.django_db(transaction=True)
def test_forced_probe_with_hung_edge_function_answers_within_the_bound(
    everything_up, support_user, settings
):
    settings.INTEGRATIONS_PROBE_TIMEOUT = 2.0
    everything_up.set_fault("voucher_png", hang=True)
    everything_up.set_fault("whatsapp", hang=True)
    client = Client()
    client.force_login(support_user)
    started = time.monotonic()
    response = client.get(URL, {"force": "true"})
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    # The contract's bound: slowest probe timeout + 1 s.
    assert elapsed < settings.INTEGRATIONS_PROBE_TIMEOUT + 1.0
    states = {i["key"]: (i["state"], i["reason"]) for i in response.json()["integrations"]}
    assert states["voucher_png"] == ("red", "timeout")
    assert states["whatsapp"] == ("red", "timeout")
    assert states["slack"] == ("green", "ok")


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_forced_requests_run_each_probe_once(everything_up, support_user):
    # Every simulated answer takes 400 ms, so all 20 requests arrive while the first run is
    # in flight; without single-flight each would probe again.
    everything_up.set_fault("*", latency_ms=400)
    barrier = threading.Barrier(20)
    results, errors = [], []

    def forced_request():
        try:
            client = Client()
            client.force_login(support_user)
            barrier.wait(timeout=10)
            response = client.get(URL, {"force": "true"})
            results.append((response.status_code, response.json()))
        except Exception as exc:  # reported below; a thread must not die silently
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=forced_request) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    assert len(results) == 20
    assert {status for status, _ in results} == {200}
    assert len({body["checked_at"] for _, body in results}) == 1
    for service in (
        "voucher_png",
        "whatsapp",
        "supabase_management",
        "vercel",
        "pagerduty",
        "slack",
    ):
        assert len(everything_up.calls(service)) == 1, service


@pytest.mark.django_db(transaction=True)
def test_forced_runs_one_after_another_both_probe(everything_up, support_user):
    client = Client()
    client.force_login(support_user)
    client.get(URL, {"force": "true"})
    client.get(URL, {"force": "true"})
    assert len(everything_up.calls("voucher_png")) == 2
