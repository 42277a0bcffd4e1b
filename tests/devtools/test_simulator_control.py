"""The simulator's HTTP control endpoint and `manage.py simulate`."""

import subprocess
import sys
import time

import httpx
import pytest

from integrations.clients.edge_functions import SendWhatsAppClient
from integrations.errors import RateLimited, Rejected


def _send(key):
    return SendWhatsAppClient().send(
        to="+250788000001", template="t", variables={}, idempotency_key=key
    )


def test_faults_state_and_reset_over_http(simulator):
    control = f"{simulator.url}/_control"
    response = httpx.post(
        f"{control}/faults", json={"service": "whatsapp", "status": 429, "retry_after": 2}
    )
    assert response.status_code == 200
    with pytest.raises(RateLimited):
        _send("k1")
    httpx.post(f"{control}/faults", json={"faults": {}})
    _send("k1")
    _send("k1")
    state = httpx.get(f"{control}/state").json()
    assert state["sent"] == 1
    assert state["sends"] == {"k1": 1}
    assert state["duplicates"] == {"k1": 1}
    assert [entry["idempotency_key"] for entry in state["send_log"]] == ["k1"]
    assert state["send_log"][0]["at"] > 0
    # Credentials the simulator received are not echoed by the control endpoint.
    assert all(c["headers"].get("apikey") in (None, "[set]") for c in state["calls"])
    assert httpx.post(f"{control}/reset").status_code == 200
    assert httpx.get(f"{control}/state").json()["sent"] == 0


def test_unknown_fault_field_is_400(simulator):
    response = httpx.post(
        f"{simulator.url}/_control/faults", json={"service": "whatsapp", "explode": True}
    )
    assert response.status_code == 400


def test_fault_for_a_number_of_requests_only(simulator):
    simulator.set_fault("whatsapp", invalid_numbers=["*"], times=1)
    with pytest.raises(Rejected):
        _send("a")
    assert _send("b")


def test_concurrent_sends_with_one_key_send_once(simulator):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=10) as pool:
        ids = set(pool.map(lambda _: _send("shared"), range(10)))
    assert len(ids) == 1
    assert simulator.sent_total() == 1
    assert simulator.state()["duplicates"]["shared"] == 9


@pytest.mark.slow
def test_manage_py_simulate_serves_in_the_foreground(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "simulate", "--port", "0", "--aws-port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**__import__("os").environ, "DEBUG": "true"},
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("Simulator on http://127.0.0.1:"), line
        url = line.split()[2]
        deadline = time.monotonic() + 10
        while True:
            try:
                response = httpx.get(f"{url}/_control/state", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert response.json()["sent"] == 0
    finally:
        proc.terminate()
        proc.wait(timeout=10)
