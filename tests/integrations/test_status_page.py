"""The admin status page and the admin index tiles; "Probe now" for support, not auditors."""

from audit.models import AuditEntry
from tests.integrations.conftest import CONTRACT_KEYS

STATUS_PAGE = "/admin/integrations/proberesult/"
PROBE_NOW = "/admin/integrations/proberesult/probe-now/"


def test_status_page_shows_a_tile_per_integration_and_history(
    client_for, support_user, everything_up
):
    client = client_for(support_user)
    everything_up.set_fault("vercel", status=500)
    response = client.get(STATUS_PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    for key in CONTRACT_KEYS:
        assert f'data-integration="{key}"' in html
    assert 'data-integration="vercel" data-state="red"' in html
    assert "HTTP 500" in html
    assert 'id="probe-history"' in html
    assert "Probe now" in html


def test_admin_index_shows_the_same_tiles(client_for, support_user, everything_up):
    client = client_for(support_user)
    client.get("/api/integrations/status", {"force": "true"})
    html = client.get("/admin/").content.decode()
    assert 'class="integration-tiles"' in html
    assert 'data-integration="slack" data-state="green"' in html


def test_support_can_probe_now_and_it_is_audited(client_for, support_user, everything_up):
    client = client_for(support_user)
    client.get(STATUS_PAGE)
    everything_up.set_fault("slack", status=503)
    response = client.post(PROBE_NOW, {"next": STATUS_PAGE})
    assert response.status_code == 302
    assert response["Location"] == STATUS_PAGE
    html = client.get(STATUS_PAGE).content.decode()
    assert 'data-integration="slack" data-state="red"' in html
    entry = AuditEntry.objects.filter(action="integrations.probe_now").latest("id")
    assert entry.actor_name == support_user.username
    assert entry.data["states"]["slack"] == "red/http_error"


def test_probe_now_rejects_offsite_next(client_for, support_user, everything_up):
    response = client_for(support_user).post(PROBE_NOW, {"next": "https://evil.example/"})
    assert response["Location"] == STATUS_PAGE


def test_auditor_sees_the_page_but_cannot_probe_now(client_for, auditor_user, everything_up):
    client = client_for(auditor_user)
    html = client.get(STATUS_PAGE).content.decode()
    assert 'data-integration="voucher_png"' in html
    assert "Probe now" not in html
    calls = len(everything_up.calls("voucher_png"))
    assert client.post(PROBE_NOW).status_code == 403
    assert len(everything_up.calls("voucher_png")) == calls


def test_probe_now_needs_post(client_for, support_user):
    assert client_for(support_user).get(PROBE_NOW).status_code == 405


def test_history_filter_by_integration(client_for, support_user, everything_up):
    client = client_for(support_user)
    client.post(PROBE_NOW)
    client.post(PROBE_NOW)
    html = client.get(STATUS_PAGE, {"key": "slack"}).content.decode()
    history = html.split('id="probe-history"', 1)[1]
    assert history.count('data-integration="slack"') == 2
    assert 'data-integration="vercel"' not in history
