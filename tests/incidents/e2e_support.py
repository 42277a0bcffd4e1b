"""Shared by the incident tests (the detection half and the gates half): signed PagerDuty
webhooks, the simulator's recorded pages, and a real qcluster against the test database.

- `pd_event(...)`, `pd_sign(...)`, `pd_post(...)`: a PagerDuty V3 webhook event, its
  `X-PagerDuty-Signature`, and its delivery through the test client or over a socket.
- `sim_pages(sim)` / `sim_slack_posts(sim)`: what reached the simulator's PagerDuty Events
  v2 and Slack `chat.postMessage`.
- `qcluster` (fixture): a real `manage.py qcluster` on our own queue name, pointed at the
  simulator (more of its environment: override `qcluster_env`); `wait_for(...)` polls with a
  deadline.
- `detected_paged_acknowledged(...)`, `worker_run(...)`, `worker_approved(...)`,
  `resolved_with_postmortem(...)`: the per-runbook walks with a real worker
  (test_e2e_*.py): detector → page + Slack at the simulator → signed acknowledgement → steps
  run by the qcluster as each role → resolve → postmortem.
"""

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime

import pytest

WEBHOOK_SECRET = "pd-webhook-test-secret-1"
WEBHOOK_URL = "/api/webhooks/pagerduty"


def pd_event(
    event_type: str,
    *,
    dedup_key: str = "",
    pd_incident_id: str = "PINC001",
    occurred_at: datetime | None = None,
    agent: str = "Jane Responder",
    content: str = "",
    event_id: str = "",
) -> dict:
    """A V3 webhook event as PagerDuty sends it (the fields we read, and a few we do not)."""
    if event_type == "incident.annotated":
        data = {
            "id": "PNOTE01",
            "type": "incident_note",
            "content": content,
            "incident": {"id": pd_incident_id, "type": "incident_reference"},
        }
    else:
        data = {
            "id": pd_incident_id,
            "type": "incident",
            "incident_key": dedup_key,
            "status": event_type.split(".")[-1],
            "title": "From the portal",
        }
    return {
        "event": {
            "id": event_id or f"01{uuid.uuid4().hex[:24].upper()}",
            "event_type": event_type,
            "resource_type": "incident",
            "occurred_at": (occurred_at or datetime.now(UTC)).isoformat().replace("+00:00", "Z"),
            "agent": {"id": "PUSER01", "summary": agent, "type": "user_reference"},
            "client": None,
            "data": data,
        }
    }


def pd_sign(body: bytes, *secrets: str) -> str:
    return ",".join(
        "v1=" + hmac.new(s.encode(), body, hashlib.sha256).hexdigest()
        for s in (secrets or (WEBHOOK_SECRET,))
    )


def pd_post(client, event: dict, *, signature: str | None = "", secrets=(), **extra):
    """Deliver `event` through the Django test client; `signature=None` sends no header,
    "" signs it with `secrets` (default WEBHOOK_SECRET)."""
    body = json.dumps(event).encode()
    headers = dict(extra.pop("headers", {}))
    if signature is not None:
        headers["X-PagerDuty-Signature"] = signature or pd_sign(body, *secrets)
    return client.post(
        WEBHOOK_URL, data=body, content_type="application/json", headers=headers, **extra
    )


def pd_post_http(base_url: str, event: dict, *, secret: str = WEBHOOK_SECRET):
    """Deliver over a real socket (a live server), as PagerDuty would."""
    import httpx

    body = json.dumps(event).encode()
    return httpx.post(
        base_url + WEBHOOK_URL,
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-PagerDuty-Signature": pd_sign(body, secret),
        },
        timeout=10,
    )


def sim_pages(sim, action: str | None = None) -> list[dict]:
    """Events v2 bodies the simulator answered 2xx, oldest first."""
    bodies = [
        c["body"]
        for c in sim.calls("pagerduty_events")
        if c.get("status") and c["status"] < 300 and isinstance(c.get("body"), dict)
    ]
    return [b for b in bodies if action is None or b.get("event_action") == action]


def sim_pd_incident(sim, dedup_key: str) -> dict:
    """The simulated PagerDuty incident an Events v2 trigger opened for this key (the newest),
    with its status and notes: with a REST key the portal resolves it through REST."""
    found = [i for i in sim.state()["pagerduty_incidents"] if i["incident_key"] == dedup_key]
    return found[-1] if found else {}


def sim_slack_posts(sim) -> list[dict]:
    return [
        c["body"]
        for c in sim.calls("slack")
        if c["path"].endswith("chat.postMessage") and c.get("status") == 200
    ]


@pytest.fixture
def webhook_secret(settings):
    settings.PAGERDUTY_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    return WEBHOOK_SECRET


def probe_recorded(key: str, state: str, reason: str = "") -> None:
    """Store one probe result as the newest run (what the probe schedule would have found),
    without probing every integration."""
    from django.core.cache import cache
    from django.utils import timezone

    from integrations.models import ProbeResult
    from integrations.status import CACHE_KEY, NONE_YET_KEY

    ProbeResult.objects.create(
        key=key,
        label=key,
        state=state,
        reason=reason or ("ok" if state == "green" else "http_error"),
        detail="HTTP 500" if state == "red" else "",
        checked_at=timezone.now(),
    )
    cache.delete_many([CACHE_KEY, NONE_YET_KEY])


@pytest.fixture
def qcluster_env() -> dict:
    """More environment for the qcluster's process (a test module overrides this)."""
    return {}


@pytest.fixture
def qcluster(simulator, monkeypatch, settings, qcluster_env):
    """A real `manage.py qcluster` on its own queue, every client pointed at the simulator.
    Needs `django_db(transaction=True)` (the cluster reads what the test committed). The
    migrations' schedules are removed first: the test runs detectors and ticks itself."""
    from django_q.conf import Conf
    from django_q.models import Schedule

    from tests.campaigns.workers import Cluster, unique_cluster_name

    name = unique_cluster_name()
    monkeypatch.setattr(Conf, "CLUSTER_NAME", name)
    Schedule.objects.all().delete()
    env = {
        key: str(value).lower() if isinstance(value, bool) else str(value)
        for key, value in simulator.settings().items()
    }
    cluster = Cluster(
        sim_url=simulator.url,
        cluster_name=name,
        PORTAL_BASE_URL=settings.PORTAL_BASE_URL,
        SLACK_OPS_CHANNEL=settings.SLACK_OPS_CHANNEL,
        Q_WORKERS="1",
        **{**env, **qcluster_env},
    ).start()
    yield cluster
    cluster.stop()


def wait_for(predicate, *, timeout: float = 60, every: float = 0.2) -> bool:
    from django.db import close_old_connections

    from tests.campaigns.workers import wait_for as _wait

    def fresh():
        close_old_connections()
        return predicate()

    return _wait(fresh, timeout=timeout, every=every)


# --- per-runbook walks with a real worker ----------------------------------------------


def detected_paged_acknowledged(simulator, qcluster, client, *, detector: str, runbook: str):
    """Run `detector`; its incident pages PagerDuty and posts to Slack (both at the
    simulator, by the worker); a signed PagerDuty acknowledgement acknowledges it here."""
    from incidents.detectors import detectors_run_all
    from incidents.models import Incident, IncidentPage

    assert detectors_run_all(only=(detector,))[detector]["opened"] == 1
    incident = Incident.objects.get(runbook_key=runbook)
    sent = lambda: IncidentPage.objects.filter(incident=incident, status="sent").count() >= 2  # noqa: E731
    assert wait_for(sent), qcluster.log_tail()
    [trigger] = sim_pages(simulator, "trigger")
    assert trigger["dedup_key"] == incident.pagerduty_dedup_key
    assert any(f"/incident/{incident.pk}/work/" in p["text"] for p in sim_slack_posts(simulator))
    event = pd_event("incident.acknowledged", dedup_key=incident.pagerduty_dedup_key)
    assert pd_post(client, event).status_code == 200
    incident.refresh_from_db()
    assert incident.acknowledged_via == "pagerduty" and incident.acknowledged_at
    return incident


def _finished(run):
    def done() -> bool:
        run.refresh_from_db()
        return run.is_finished

    return done


def worker_run(qcluster, incident, key: str, user, **params):
    """Ask for a step run as `user`; the qcluster runs it. → the finished StepRun."""
    from incidents.models import StepRun
    from incidents.services import step_run_request

    run = step_run_request(step=incident.steps.get(key=key), actor=user, params=params)
    assert isinstance(run, StepRun), run
    assert wait_for(_finished(run)), qcluster.log_tail()
    return run


def worker_approved(qcluster, approval, approver):
    """A second person approves; the qcluster runs the step. → the finished StepRun."""
    from incidents.models import StepRun
    from incidents.services import approval_decide

    approval_decide(approval=approval, actor=approver, approve=True, comment="go")
    assert wait_for(lambda: StepRun.objects.filter(approval=approval).exists())
    run = StepRun.objects.get(approval=approval)
    assert wait_for(_finished(run), timeout=120), qcluster.log_tail()
    return run


def resolved_with_postmortem(simulator, qcluster, incident, user) -> str:
    """Resolve here: the PagerDuty incident is resolved (by the worker) and the postmortem
    carries the real MTTA and the pages. → its Markdown."""
    from incidents.services import incident_status_set

    incident_status_set(incident=incident, status="resolved", actor=user, note="walked through")
    key = incident.pagerduty_dedup_key
    resolved = wait_for(lambda: sim_pd_incident(simulator, key).get("status") == "resolved")
    assert resolved, qcluster.log_tail()
    incident.refresh_from_db()
    markdown = incident.postmortem_markdown
    mtta = incident.acknowledged_at - incident.opened_at
    minutes, seconds = divmod(int(mtta.total_seconds()), 60)
    assert f"(MTTA, opened → first acknowledgement): {minutes}m {seconds:02d}s" in markdown
    assert "in PagerDuty)" in markdown  # acknowledged there
    assert markdown.count("(round 0): sent") >= 2  # the page and the Slack post
    return markdown
