"""The front page (admin index) answers "what is broken and what do I do next": open incidents
with their next step and timers, campaigns with progress, MTTA/MTTR, approvals for admins —
per role, in a number of queries that does not grow with the data, and still rendering when
an app's piece is missing."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import Campaign, Target
from incidents.models import IncidentStep
from incidents.services import incident_acknowledge, incident_open, step_run_request

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def populate(ops_user, support_user):
    made = {"n": 0}

    def _populate(count: int):
        for _ in range(count):
            made["n"] += 1
            n = made["n"]
            incident, _ = incident_open(
                runbook_key="whatsapp_send",
                actor=support_user,
                dedup_key=f"fp-{n}",
                title=f"Sends failing {n}",
            )
            # The escalation step fell due ten minutes ago (its timer is what the page shows).
            IncidentStep.objects.filter(incident=incident, key="notify_provider").update(
                due_at=timezone.now() - timedelta(minutes=10)
            )
            if n % 2:
                incident_acknowledge(incident=incident, actor=ops_user)
            campaign = Campaign.objects.create(
                name=f"Promo {n}", template="fuel_promo_v2", state=Campaign.State.RUNNING
            )
            Target.objects.bulk_create(
                [
                    Target(
                        campaign=campaign,
                        phone=f"+2507880{n:03d}{i:03d}",
                        status=Target.Status.SENT if i < 3 else Target.Status.PENDING,
                    )
                    for i in range(4)
                ]
            )
            leak, _ = incident_open(
                runbook_key="credential_leak", actor=support_user, dedup_key=f"leak-{n}"
            )
            step_run_request(
                step=leak.steps.get(key="invalidate_sessions"), actor=ops_user, params={}
            )

    return _populate


def _get(client, user):
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 200
    return response


def test_admin_sees_incidents_timers_campaigns_metrics_and_approvals(client, populate, admin_user):
    populate(1)
    html = _get(client, admin_user).content.decode()
    assert 'id="fp-incidents"' in html and "Sends failing 1" in html
    assert "overdue by 10" in html  # "3.1 overdue by 10 minutes"
    assert 'id="fp-campaigns"' in html and "3 / 4 (75%)" in html
    assert 'id="fp-metrics"' in html and "<svg" in html and 'class="mtta"' in html
    assert 'id="fp-approvals"' in html and "Invalidate all admin sessions" in html
    assert "fp-review" in html and "#approval-" in html  # to the incident's approval panel
    assert "Needs attention" in html and "1 approval waiting for you" in html


def test_the_requester_sees_their_own_request_as_waiting_for_someone_else(
    client, open_incident_as_admin, admin_user
):
    html = _get(client, admin_user).content.decode()
    assert "your request: another admin must approve" in html
    assert "fp-review" not in html


@pytest.fixture
def open_incident_as_admin(admin_user, support_user):
    leak, _ = incident_open(runbook_key="credential_leak", actor=support_user, dedup_key="leak")
    step_run_request(step=leak.steps.get(key="invalidate_sessions"), actor=admin_user, params={})
    return leak


@pytest.mark.parametrize("persona", ["support_user", "ops_user", "auditor_user"])
def test_only_admins_see_approvals_everyone_sees_incidents(client, populate, persona, request):
    populate(1)
    html = _get(client, request.getfixturevalue(persona)).content.decode()
    assert 'id="fp-incidents"' in html and 'id="fp-campaigns"' in html
    assert 'id="fp-approvals"' not in html


def test_query_count_does_not_grow_with_the_data(client, populate, admin_user):
    populate(1)
    client.force_login(admin_user)
    client.get("/admin/")  # warm the status cache and content types
    with CaptureQueriesContext(connection) as few:
        assert client.get("/admin/").status_code == 200
    populate(11)  # more than each section shows
    with CaptureQueriesContext(connection) as many:
        html = client.get("/admin/").content.decode()
    assert "All open incidents" in html  # the section is cut, not loaded whole
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]
    # session, user, permissions, 8 for the front page's sections, the integrations status
    # (one read per integration while no probe has run), the incident banners, recent actions
    assert len(many) <= 25


def test_the_page_renders_when_an_app_piece_is_missing(client, populate, admin_user, monkeypatch):
    import incidents.selectors

    populate(1)
    monkeypatch.delattr(incidents.selectors, "approvals_pending")
    html = _get(client, admin_user).content.decode()
    assert 'id="fp-approvals"' not in html
    assert 'id="fp-incidents"' in html and 'id="fp-campaigns"' in html
