"""Branded error pages for people: 403 names the missing permission and the roles that have
it, with the ways on (front page, the page before, #ops); 404 the same ways; 500 shows the
request id and nothing of the error; logging out leads back to the login form. `/api/…`
keeps its JSON errors."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign_factory():
    from campaigns.models import Campaign

    def make(targets: int = 0, *, state: str = "running"):
        return Campaign.objects.create(name="Promo", template="promo_v1", state=state)

    return make


def test_403_names_the_permission_and_the_roles_that_have_it(client_for, support_user):
    client = client_for(support_user)
    response = client.get("/admin/auth/user/", HTTP_REFERER="http://testserver/admin/")

    assert response.status_code == 403
    html = response.content.decode()
    assert "<code>auth.view_user</code>" in html and "<strong>admin</strong>" in html
    assert "signed in as <strong>sam-support</strong> with the role support" in html
    assert "ask in <strong>#ops</strong> for the admin role" in html
    assert 'id="forbidden-back"' in html and 'href="http://testserver/admin/"' in html
    assert 'href="/admin/"' in html


def test_403_of_a_custom_page_names_its_permission(client_for, support_user, campaign_factory):
    campaign = campaign_factory(1, state="draft")
    response = client_for(support_user).post(
        f"/admin/campaigns/campaign/{campaign.pk}/upload/", HTTP_REFERER="https://evil.example/"
    )
    assert response.status_code == 403
    html = response.content.decode()
    assert "<code>campaigns.add_target</code>" in html
    assert "<strong>ops</strong> and <strong>admin</strong>" in html
    assert "evil.example" not in html  # the way back is only ever one of our pages


def test_403_of_a_control_button_names_the_control_permission(
    client_for, auditor_user, campaign_factory
):
    campaign = campaign_factory(1)
    response = client_for(auditor_user).post(
        f"/admin/campaigns/campaign/{campaign.pk}/control/stop/"
    )
    assert response.status_code == 403
    assert "<code>campaigns.control_campaign</code>" in response.content.decode()


def test_api_refusals_stay_json(client_for, support_user, campaign_factory):
    campaign = campaign_factory(1)
    client = client_for(support_user)
    response = client.post(f"/api/campaigns/{campaign.pk}/stop")
    assert (response.status_code, response.json()) == (403, {"error": "forbidden"})
    missing = client.get("/api/no/such/thing")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def test_404_is_ours_for_people_and_strangers(client, client_for, support_user):
    for who in (client, client_for(support_user)):
        response = who.get("/admin/no-such-page/") if who is not client else who.get("/nowhere")
        assert response.status_code == 404
        html = response.content.decode()
        assert 'data-error="404"' in html and 'href="/admin/"' in html


def test_500_shows_the_request_id_and_no_detail(client_for, support_user, monkeypatch):
    import opsportal.frontpage

    def broken(request):
        raise RuntimeError("boom: secret-ish internal detail")

    monkeypatch.setattr(opsportal.frontpage, "frontpage_context", broken)
    client = client_for(support_user)
    client.raise_request_exception = False

    response = client.get("/admin/", HTTP_X_REQUEST_ID="req-12345")

    assert response.status_code == 500
    html = response.content.decode()
    assert '<code id="request-id">req-12345</code>' in html
    assert "boom" not in html and "RuntimeError" not in html and "Traceback" not in html


def test_logging_out_leads_back_to_the_login_form(client_for, support_user):
    response = client_for(support_user).post("/admin/logout/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "You are signed out" in html
    assert '<a href="/admin/login/" class="button" id="sign-in-again">' in html
