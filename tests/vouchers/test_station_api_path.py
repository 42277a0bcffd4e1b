"""How a station API call travels: ahead of the browser middleware, and through a
server-side prepared statement (planned once per connection, not per request)."""

import logging

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_redeem_gets_security_headers_and_a_request_id_but_no_session(
    station_with_token, voucher_factory, redeem
):
    _, token = station_with_token
    response = redeem(
        token, {"code": voucher_factory().code}, headers={"HTTP_X_REQUEST_ID": "till-7.42"}
    )
    assert response.status_code == 200
    # Answered ahead of the session/auth middleware and the URL resolver.
    assert not hasattr(response.wsgi_request, "session")
    assert not hasattr(response.wsgi_request, "user")
    assert response.wsgi_request.resolver_match is None
    assert response.headers["X-Request-ID"] == "till-7.42"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Content-Length"] == str(len(response.content))
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")


def test_a_session_cookie_does_not_make_the_station_api_a_browser_endpoint(
    station_with_token, voucher_factory, redeem, client, admin_user
):
    """Logged-in staff get no special treatment: the station token still decides."""
    client.force_login(admin_user)
    response = redeem("stn_not-a-real-token", {"code": voucher_factory().code}, client=client)
    assert response.status_code == 401
    assert response.json() == {"error": "unauthorized"}


def test_a_host_outside_allowed_hosts_is_refused(station_with_token, voucher_factory, redeem):
    _, token = station_with_token
    voucher = voucher_factory()
    response = redeem(token, {"code": voucher.code}, headers={"HTTP_HOST": "evil.example"})
    assert response.status_code == 400
    voucher.refresh_from_db()
    assert voucher.status == "issued"


def test_wrong_method_is_refused_with_allow_header(client):
    response = client.get("/api/station/redeem")
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"


def test_other_api_paths_still_go_through_the_full_stack(client):
    # The staff API (opsportal/api.py), which the station fast path skips, answers an anonymous caller.
    assert client.get("/api/campaigns/1/status").status_code == 401
    assert client.get("/api/station/redeem/").status_code == 404


def test_refusals_are_not_logged_as_warnings(station_with_token, redeem, caplog):
    """Each refusal is in the redeem attempt log already; django.request stays quiet."""
    _, token = station_with_token
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = redeem(token, {"code": "NO-SUCH-CODE"})
    assert response.status_code == 404
    assert not [r for r in caplog.records if r.name == "django.request"]


def test_redeem_statement_is_prepared_once_per_connection(
    station_with_token, voucher_factory, redeem
):
    _, token = station_with_token
    for _ in range(3):
        assert redeem(token, {"code": voucher_factory().code}).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), max(generic_plans + custom_plans) FROM pg_prepared_statements"
            " WHERE statement LIKE %s",
            ["WITH st AS(SELECT id,code FROM vouchers_station%"],
        )
        prepared, executions = cursor.fetchone()
    assert prepared == 1
    assert executions == 3


def _prepared_statements_forget():
    """What a pooler handing us another server connection does: the server forgets our
    prepared statements and psycopg does not know (libpq directly, below psycopg)."""
    connection.ensure_connection()
    result = connection.connection.pgconn.exec_(b"DEALLOCATE ALL")
    assert result.command_status == b"DEALLOCATE ALL"


def test_a_lost_prepared_statement_is_prepared_again(station_with_token, voucher_factory, redeem):
    _, token = station_with_token
    assert redeem(token, {"code": voucher_factory().code}).status_code == 200
    _prepared_statements_forget()
    assert redeem(token, {"code": voucher_factory().code}).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_lost_prepared_statement_is_prepared_again_in_autocommit(
    station_with_token, voucher_factory, redeem
):
    _, token = station_with_token
    first, second = voucher_factory(count=2)
    assert redeem(token, {"code": first.code}).status_code == 200
    _prepared_statements_forget()
    response = redeem(token, {"code": second.code})
    assert response.status_code == 200
    second.refresh_from_db()
    assert second.status == "redeemed"
    assert second.events.filter(kind="redeemed").count() == 1
