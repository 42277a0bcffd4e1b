"""Every refusal on a staff API path is `{"error": code, "detail"?}` JSON, never an HTML
page and never a 500: 400, 401, 403, CSRF, 404 (unknown paths too), 405, 413."""

import pytest
from django.test import Client

from staff.services import api_token_create

pytestmark = pytest.mark.django_db

# Every staff endpoint, with ids that do not exist (auth is decided before the lookup).
ENDPOINTS = [
    ("get", "/api/me"),
    ("get", "/api/integrations/status"),
    ("post", "/api/campaigns/1/start"),
    ("post", "/api/campaigns/1/stop"),
    ("get", "/api/campaigns/1/status"),
    ("get", "/api/campaigns/1/failed-targets.csv"),
    ("get", "/api/incidents/1"),
    ("post", "/api/incidents/1/steps/triage/run"),
    ("get", "/api/incidents/runs/1"),
    ("post", "/api/incidents/approvals/1/decide"),
    ("get", "/api/staff/schema/"),
    ("get", "/api/staff/docs"),
]


def _json_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == code
    assert set(body) <= {"error", "detail"}
    return body


@pytest.fixture
def token(ops_user):
    return api_token_create(user=ops_user, name="script").plaintext


@pytest.mark.parametrize("method,url", ENDPOINTS)
def test_anonymous_gets_401_with_a_bearer_challenge(client, method, url):
    response = getattr(client, method)(url)
    assert _json_error(response, 401, "unauthorized") == {"error": "unauthorized"}
    assert response["WWW-Authenticate"] == 'Bearer realm="opsportal"'


@pytest.mark.parametrize("method,url", ENDPOINTS)
def test_an_unknown_or_revoked_token_is_401_even_with_a_session(client, admin_user, method, url):
    client.force_login(admin_user)  # a valid session does not rescue a bad token
    response = getattr(client, method)(url, HTTP_AUTHORIZATION="Bearer opsp_" + "x" * 43)
    _json_error(response, 401, "unauthorized")


@pytest.mark.parametrize(
    "persona,url",
    [("support_user", "/api/campaigns/1/start"), ("auditor_user", "/api/campaigns/1/stop")],
)
def test_forbidden_is_403_forbidden_with_a_token_and_with_a_session(request, client, persona, url):
    user = request.getfixturevalue(persona)
    bearer = f"Bearer {api_token_create(user=user).plaintext}"
    response = client.post(url, HTTP_AUTHORIZATION=bearer)
    assert _json_error(response, 403, "forbidden") == {"error": "forbidden"}
    client.force_login(user)
    assert _json_error(client.post(url), 403, "forbidden") == {"error": "forbidden"}


@pytest.mark.parametrize(
    "method,url", [e for e in ENDPOINTS[1:10] if "/steps/" not in e[1] and "/decide" not in e[1]]
)
def test_a_staff_user_without_permissions_is_403(client, django_user_model, method, url):
    # (Running steps and deciding approvals: the services refuse, after the lookup.)
    nobody = django_user_model.objects.create_user("nobody", password="x", is_staff=True)
    client.force_login(nobody)
    assert _json_error(getattr(client, method)(url), 403, "forbidden") == {"error": "forbidden"}


def test_session_post_without_the_csrf_token_is_refused_as_json(ops_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(ops_user)
    body = _json_error(client.post("/api/campaigns/1/stop"), 403, "csrf_failed")
    assert "X-CSRFToken" in body["detail"]


def test_session_post_with_the_csrf_token_passes(ops_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(ops_user)
    client.get("/admin/")  # the admin page sets the csrftoken cookie
    csrf = client.cookies["csrftoken"].value
    response = client.post("/api/campaigns/1/stop", HTTP_X_CSRFTOKEN=csrf)
    _json_error(response, 404, "not_found")  # through CSRF and auth to the lookup


def test_token_post_needs_no_csrf_token(token):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/api/campaigns/1/stop", HTTP_AUTHORIZATION=f"Bearer {token}")
    _json_error(response, 404, "not_found")


def test_anonymous_post_is_401_not_a_csrf_refusal():
    response = Client(enforce_csrf_checks=True).post("/api/campaigns/1/stop")
    _json_error(response, 401, "unauthorized")


@pytest.mark.parametrize(
    "url",
    ["/api/", "/api/nope", "/api/campaigns/abc/status", "/api/incidents/1/steps", "/api/station/x"],
)
def test_unknown_paths_under_api_are_json_404(client, token, url):
    body = _json_error(client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}"), 404, "not_found")
    assert body["detail"]
    _json_error(Client().get(url), 404, "not_found")  # anonymous too: nothing there to guard


@pytest.mark.parametrize(
    "method,url,allow",
    [
        ("get", "/api/campaigns/1/start", "POST"),
        ("delete", "/api/campaigns/1/status", "GET"),
        ("put", "/api/me", "GET"),
        ("get", "/api/incidents/approvals/1/decide", "POST"),
    ],
)
def test_a_wrong_method_is_json_405_with_allow(client, token, method, url, allow):
    response = getattr(client, method)(url, HTTP_AUTHORIZATION=f"Bearer {token}")
    _json_error(response, 405, "method_not_allowed")
    assert response["Allow"] == allow


def test_an_oversize_body_is_json_413_and_changes_nothing(client, token, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = client.post(
        "/api/incidents/approvals/1/decide",
        data='{"decision": "deny", "comment": "' + "x" * 2048 + '"}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    _json_error(response, 413, "payload_too_large")


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe",
        b'["a list"]',
        b'{"decision": "maybe"}',
        b'{"decision": "deny", "params_hash": 7}',
        b"{}",
    ],
)
def test_malformed_or_invalid_bodies_are_400_invalid_request(client, token, body):
    response = client.post(
        "/api/incidents/approvals/1/decide",
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert _json_error(response, 400, "invalid_request")["detail"]


@pytest.mark.parametrize("dry_run", ['"false"', '"no"', "1", "null"])
def test_dry_run_must_be_a_real_boolean(client, token, dry_run):
    response = client.post(
        "/api/incidents/1/steps/triage/run",
        data='{"dry_run": ' + dry_run + "}",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    _json_error(response, 400, "invalid_request")
