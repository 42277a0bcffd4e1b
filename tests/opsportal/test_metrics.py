"""GET /metrics: Prometheus text for the allowed scrapers only, with what an operator
watches — latency by route pattern, redeem outcomes, dispatcher sends and throttle use,
tasks and the queue, probe states, audit seal lag, open incidents by severity."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from django_q.tasks import async_task

import audit
from campaigns.models import Campaign, SendResult
from incidents.models import Incident
from integrations.models import ProbeResult
from opsportal.management.commands.metrics_exporter import exporter_app
from tests.campaigns.conftest import campaign_factory  # noqa: F401,F811  (a fixture)
from tests.prometheus_text import metric

pytestmark = pytest.mark.django_db


@pytest.fixture
def scrape(settings):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    cache.clear()  # the status gauges read the status cache

    def get() -> str:
        response = Client().get("/metrics")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain; version=0.0.4")
        return response.content.decode()

    return get


def test_who_may_scrape(settings):
    settings.METRICS_ALLOWED_IPS = ["10.1.0.0/16"]
    settings.METRICS_TOKEN = "scrape-token-0123456789"
    client = Client()
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.2.0.1").status_code == 404
    # Relayed by a proxy: the proxy's address proves nothing about the client.
    relayed = client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert relayed.status_code == 404
    token = {"Authorization": "Bearer scrape-token-0123456789"}
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9", headers=token).status_code == 200
    wrong = {"Authorization": "Bearer guessed"}
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3", headers=wrong).status_code == 403
    assert client.post("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 405


def test_request_latency_is_labelled_by_route_pattern_not_path(scrape, client_for, ops_user):
    campaign = Campaign.objects.create(name="c", template="promo_v1")
    before = metric(
        scrape(),
        "opsportal_http_request_duration_seconds_count",
        route="api/campaigns/<int:campaign_id>/status",
        status="2xx",
    )
    client_for(ops_user).get(f"/api/campaigns/{campaign.pk}/status")
    client_for(ops_user).get("/no/such/page/123")
    text = scrape()
    assert (
        metric(
            text,
            "opsportal_http_request_duration_seconds_count",
            route="api/campaigns/<int:campaign_id>/status",
            method="GET",
            status="2xx",
        )
        == before + 1
    )
    assert f"/api/campaigns/{campaign.pk}/status" not in text
    assert (
        "/no/such/page" not in text
        and metric(text, "opsportal_http_request_duration_seconds_count", route="unmatched") >= 1
    )


def test_redeem_outcomes_are_counted_on_the_fast_path(scrape, station_with_token, voucher_factory):
    station, token = station_with_token
    voucher = voucher_factory()
    before = scrape()
    client = Client(headers={"Authorization": f"Bearer {token}"})
    for key in ("k-1", "k-1", "k-2"):  # redeemed, replayed, already redeemed
        client.post(
            "/api/station/redeem",
            {"code": voucher.code},
            content_type="application/json",
            headers={"Idempotency-Key": key},
        )
    after = scrape()
    for outcome in ("redeemed", "replayed", "already_redeemed"):
        assert (
            metric(after, "opsportal_redeem_outcomes_total", outcome=outcome)
            == metric(before, "opsportal_redeem_outcomes_total", outcome=outcome) + 1
        ), outcome
    assert (
        metric(
            after,
            "opsportal_http_request_duration_seconds_count",
            route="api/station/redeem",
            method="POST",
        )
        >= 3
    )


def test_state_gauges(scrape, ops_user, campaign_factory):  # noqa: F811
    now = timezone.now()
    ProbeResult.objects.bulk_create(
        [
            ProbeResult(key="slack", label="Slack", state="green", reason="ok", checked_at=now),
            ProbeResult(
                key="voucher_png", label="PNG", state="red", reason="not_configured", checked_at=now
            ),
        ]
    )
    campaign = campaign_factory(3, throttle_per_minute=120)
    SendResult.objects.bulk_create(
        [
            SendResult(
                at=campaign.started_at, campaign=campaign, phone="+250780000001", outcome="sent"
            )
        ]
    )
    Incident.objects.create(
        runbook_key="x",
        runbook_title="X",
        title="one",
        severity="sev1",
        detected_at=now,
        opened_at=now,
    )
    Incident.objects.create(
        runbook_key="x",
        runbook_title="X",
        title="two",
        severity="sev3",
        status="resolved",
        detected_at=now,
        opened_at=now,
    )
    audit.record(action="test.metrics", actor=None, data={})  # not sealed yet
    async_task("math.floor", 1.5)  # waits in the (ORM) queue

    text = scrape()
    assert metric(text, "opsportal_incidents_open", severity="sev1") == 1
    assert metric(text, "opsportal_incidents_open", severity="sev3") == 0
    assert metric(text, "opsportal_campaign_throttle_per_minute", campaign=campaign.pk) == 120
    assert metric(text, "opsportal_campaign_throttle_use", campaign=campaign.pk) == pytest.approx(
        1 / 120
    )
    assert metric(text, "opsportal_audit_unsealed_entries") >= 1
    assert "opsportal_audit_seal_lag_seconds" in text
    assert metric(text, "opsportal_task_queue_depth") >= 1
    assert "opsportal_task_queue_oldest_age_seconds" in text
    assert metric(text, "opsportal_integration_state", integration="slack", reason="ok") == 0
    assert (
        metric(
            text, "opsportal_integration_state", integration="voucher_png", reason="not_configured"
        )
        == 2
    )


def test_workers_count_the_tasks_they_run(scrape):
    before = metric(scrape(), "opsportal_task_runs_total", task="math.floor", result="success")
    async_task("math.floor", 1.5, sync=True)  # runs the worker's code path here
    assert (
        metric(scrape(), "opsportal_task_runs_total", task="math.floor", result="success")
        == before + 1
    )


def test_the_worker_exporter_applies_the_same_rule(settings):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    app = exporter_app(with_state=False)
    answers = []

    def start_response(status, headers):
        answers.append(status)

    body = b"".join(app({"PATH_INFO": "/metrics", "REMOTE_ADDR": "127.0.0.1"}, start_response))
    app({"PATH_INFO": "/metrics", "REMOTE_ADDR": "192.0.2.1"}, start_response)
    assert answers == ["200 OK", "404 Not Found"]
    assert b"opsportal_task_runs_total" in body or b"opsportal_task_runs" in body
