"""Forced probes are single-flight in the database, for every process and host: a forced
request is answered by a run that started after it arrived, whoever runs it."""

import datetime as dt
import threading
import time

import psycopg
import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from integrations import status
from integrations.flight import RUN_LOCK_CLASS
from integrations.models import ProbeRun
from tests.campaigns.workers import database_url

URL = "/api/integrations/status"
pytestmark = pytest.mark.django_db(transaction=True)


def probe_calls(sim):
    return len(sim.calls("voucher_png"))


def test_a_run_that_started_before_the_request_arrived_does_not_answer_it(everything_up):
    everything_up.set_fault("*", latency_ms=400)
    first = {}

    def early():
        try:
            first["payload"] = status.probes_run(forced=True)
        finally:
            connection.close()

    thread = threading.Thread(target=early)
    thread.start()
    # Arrive once the first run has started probing (its start is planned: wait past it).
    while not ProbeRun.objects.filter(started_at__lte=timezone.now()).exists():
        time.sleep(0.02)
    arrived = timezone.now()
    payload = status.probes_run(forced=True, arrived=arrived)
    thread.join(10)

    assert probe_calls(everything_up) == 2  # its own run, not the one already in flight
    assert payload["checked_at"] >= arrived.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ProbeRun.objects.filter(finished_at__isnull=False).count() == 2


def test_a_request_queued_at_the_proxy_is_answered_by_the_run_that_started_after_it(
    everything_up, support_user, settings
):
    settings.TRUST_X_REQUEST_START = True
    client = Client()
    client.force_login(support_user)
    queued_since = time.time()  # it reached nginx now; a worker only gets to it later
    first = client.get(URL, {"force": "true"})
    assert probe_calls(everything_up) == 1

    second = client.get(URL, {"force": "true"}, headers={"X-Request-Start": f"t={queued_since}"})
    assert second.json() == first.json()  # the run that started after it arrived
    assert probe_calls(everything_up) == 1

    settings.TRUST_X_REQUEST_START = False  # from anyone else the header means nothing
    client.get(URL, {"force": "true"}, headers={"X-Request-Start": f"t={queued_since}"})
    assert probe_calls(everything_up) == 2


def test_when_the_leader_dies_its_joiners_run_the_probes_themselves(everything_up):
    # Another process plans a run and holds its lock... and dies before it probes.
    with psycopg.connect(database_url(), autocommit=True) as other:
        run_id = other.execute(
            "INSERT INTO integrations_proberun (started_at, abandoned, forced, leader)"
            " VALUES (now() + interval '300 milliseconds', false, true, 'doomed') RETURNING id"
        ).fetchone()[0]
        other.execute("SELECT pg_advisory_lock(%s, %s)", [RUN_LOCK_CLASS, run_id])
        threading.Timer(0.6, other.close).start()  # its session ends: the lock goes
        payload = status.probes_run(forced=True, arrived=timezone.now())

    assert ProbeRun.objects.get(pk=run_id).abandoned
    assert probe_calls(everything_up) == 1
    assert {i["key"] for i in payload["integrations"]} >= {"voucher_png", "slack"}


def test_old_runs_are_pruned_with_the_probe_history(everything_up):
    status.probes_run(forced=True)
    ProbeRun.objects.update(started_at=timezone.now() - dt.timedelta(days=30))
    status.probe_history_prune(days=7)
    assert not ProbeRun.objects.exists()
