"""Degraded mode: a red integration puts its runbook copy on every portal page, until green."""

VOUCHER_COPY = "Voucher previews unavailable; fallback to code view."


def _force(client):
    assert client.get("/api/integrations/status", {"force": "true"}).status_code == 200


def test_banner_appears_while_red_and_disappears_when_green(
    client_for, support_user, everything_up
):
    client = client_for(support_user)
    _force(client)
    assert VOUCHER_COPY not in client.get("/admin/").content.decode()

    everything_up.set_fault("voucher_png", status=503)
    _force(client)
    for page in ("/admin/", "/admin/integrations/proberesult/", "/admin/password_change/"):
        html = client.get(page).content.decode()
        assert VOUCHER_COPY in html, page
        assert 'data-integration="voucher_png"' in html

    everything_up.clear_faults()
    _force(client)
    assert VOUCHER_COPY not in client.get("/admin/").content.decode()


def test_each_red_integration_gets_its_own_runbook_copy(client_for, ops_user, everything_up):
    client = client_for(ops_user)
    everything_up.set_fault("whatsapp", status=500)
    everything_up.set_fault("slack", revoked=True)
    _force(client)
    html = client.get("/admin/").content.decode()
    assert "resume only once the send function answers 202" in html
    assert "Slack is unreachable" in html
    assert VOUCHER_COPY not in html


def test_amber_is_not_a_banner(client_for, support_user, everything_up):
    client = client_for(support_user)
    everything_up.set_fault("voucher_png", status=429, retry_after=5)
    _force(client)
    assert VOUCHER_COPY not in client.get("/admin/").content.decode()


def test_banner_comes_from_stored_probes_after_the_cache_expires(
    client_for, support_user, everything_up
):
    from django.core.cache import cache

    client = client_for(support_user)
    everything_up.set_fault("voucher_png", status=503)
    _force(client)
    cache.clear()  # e.g. another process ran the probe; this one only has the database
    calls = len(everything_up.calls("voucher_png"))
    assert VOUCHER_COPY in client.get("/admin/").content.decode()
    assert len(everything_up.calls("voucher_png")) == calls  # a page view never probes


def test_login_page_has_no_banner_for_anonymous_visitors(client, db, everything_up):
    from integrations.status import probes_run

    everything_up.set_fault("voucher_png", status=503)
    probes_run()
    assert VOUCHER_COPY not in client.get("/admin/login/").content.decode()


def _probe_queries(client, url="/admin/"):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return [q for q in queries.captured_queries if "integrations_proberesult" in q["sql"]]


def test_a_page_costs_at_most_one_status_query(client_for, support_user, everything_up):
    from django.core.cache import cache

    client = client_for(support_user)
    assert len(_probe_queries(client)) == 1  # never probed: one look
    assert _probe_queries(client) == []  # ... remembered for a while
    _force(client)
    cache.clear()
    assert len(_probe_queries(client)) == 1  # stored run read once
    assert _probe_queries(client) == []  # then cached
