"""Every row of the POST /api/station/redeem contract table (docs/contracts.md)."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from vouchers.models import RedeemAttempt, Voucher, VoucherEvent
from vouchers.services import station_create, voucher_void

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, params=["sql", "orm"])
def engine(request, settings):
    """Both implementations (PostgreSQL statement, portable ORM) answer the same."""
    settings.REDEEM_ENGINE = request.param
    return request.param


def body(response):
    return json.loads(response.content)


def test_redeems_an_issued_voucher(station_with_token, voucher_factory, redeem):
    station, token = station_with_token
    voucher = voucher_factory(amount="5000")
    response = redeem(token, {"code": voucher.code, "reference": "pump 4"})
    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response.headers
    data = body(response)
    assert data["status"] == "redeemed"
    assert data["voucher"]["code"] == voucher.code
    assert data["voucher"]["amount"] == "5000.00"
    assert data["voucher"]["currency"] == "RWF"
    assert data["voucher"]["station"] == "KGL-001"
    assert data["voucher"]["redeemed_at"].endswith("Z")
    voucher.refresh_from_db()
    assert voucher.status == "redeemed"
    assert voucher.redeemed_by == station
    event = voucher.events.get(kind=VoucherEvent.Kind.REDEEMED)
    assert event.station == station
    assert event.data["reference"] == "pump 4"


def test_code_is_matched_case_and_space_insensitively(station_with_token, voucher_factory, redeem):
    _, token = station_with_token
    voucher = voucher_factory()
    assert redeem(token, {"code": f"  {voucher.code.lower()} "}).status_code == 200


def test_same_key_and_body_replays_the_stored_response(station_with_token, voucher_factory, redeem):
    _, token = station_with_token
    voucher = voucher_factory()
    first = redeem(token, {"code": voucher.code}, key="till-7-0001")
    again = redeem(token, {"code": voucher.code}, key="till-7-0001")
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert voucher.events.filter(kind="redeemed").count() == 1


def test_a_stored_refusal_is_replayed_as_it_was(station_with_token, redeem):
    _, token = station_with_token
    first = redeem(token, {"code": "V-NOPE"}, key="k-404")
    again = redeem(token, {"code": "V-NOPE"}, key="k-404")
    assert (first.status_code, again.status_code) == (404, 404)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content


@pytest.mark.parametrize(
    "raw, content_type",
    [
        ("{not json", "application/json"),
        ("[]", "application/json"),
        ('"code"', "application/json"),
        ("{}", "application/json"),
        ('{"code": ""}', "application/json"),
        ('{"code": "   "}', "application/json"),
        ('{"code": 12}', "application/json"),
        ('{"code": null}', "application/json"),
        ('{"code": "V-1", "extra": 1}', "application/json"),
        ('{"code": "V-1", "reference": 5}', "application/json"),
        ('{"code": "V-1", "reference": "' + "r" * 65 + '"}', "application/json"),
        ('{"code": "' + "C" * 65 + '"}', "application/json"),
        ('{"code": "V-1\\u0000"}', "application/json"),
        ('{"code": "\\ud800"}', "application/json"),
        ('{"code": "V-1", "code": "V-2"}', "application/json"),
        ('{"code": NaN}', "application/json"),
        ('{"code": "V-1"}', "text/plain"),
        ("code=V-1", "application/x-www-form-urlencoded"),
        ('{"code": "' + "x" * 5000 + '"}', "application/json"),
        (b'{"code": "\xff\xfe"}', "application/json"),
    ],
)
def test_malformed_requests_are_invalid_request(station_with_token, redeem, raw, content_type):
    _, token = station_with_token
    response = redeem(token, raw=raw, content_type=content_type)
    assert response.status_code == 400
    assert body(response)["error"] == "invalid_request"
    assert RedeemAttempt.objects.get().outcome == "invalid_request"


@pytest.mark.parametrize("key", [None, "", "has space", "x" * 256, "ключ", "tab\there"])
def test_missing_or_malformed_idempotency_key_is_invalid_request(
    station_with_token, voucher_factory, redeem, key
):
    _, token = station_with_token
    voucher = voucher_factory()
    response = redeem(token, {"code": voucher.code}, key=key)
    assert response.status_code == 400
    assert body(response)["error"] == "invalid_request"
    voucher.refresh_from_db()
    assert voucher.status == "issued"


def test_longest_allowed_key_is_accepted(station_with_token, voucher_factory, redeem):
    _, token = station_with_token
    voucher = voucher_factory()
    assert redeem(token, {"code": voucher.code}, key="~" * 255).status_code == 200


@pytest.mark.parametrize("auth", [None, "stn_unknown-token-0123456789abcdef", ""])
def test_missing_or_unknown_token_is_unauthorized(voucher_factory, redeem, auth):
    voucher = voucher_factory()
    response = redeem(auth, {"code": voucher.code})
    assert response.status_code == 401
    assert body(response) == {"error": "unauthorized"}
    voucher.refresh_from_db()
    assert voucher.status == "issued"
    assert RedeemAttempt.objects.get().station is None


def test_token_without_bearer_scheme_is_unauthorized(station_with_token, voucher_factory, redeem):
    _, token = station_with_token
    voucher = voucher_factory()
    response = redeem(None, {"code": voucher.code}, headers={"HTTP_AUTHORIZATION": token})
    assert response.status_code == 401


def test_deactivated_station_token_fails(station_with_token, voucher_factory, redeem):
    station, token = station_with_token
    station.active = False
    station.save(update_fields=["active"])
    voucher = voucher_factory()
    response = redeem(token, {"code": voucher.code})
    assert response.status_code == 401
    assert body(response)["error"] == "unauthorized"
    voucher.refresh_from_db()
    assert voucher.status == "issued"


def test_out_of_scope(station_with_token, voucher_factory, redeem):
    _, token = station_with_token
    other = station_create(code="HUYE-01", name="Huye").station
    voucher = voucher_factory(stations=[other])
    response = redeem(token, {"code": voucher.code})
    assert response.status_code == 403
    assert body(response) == {"error": "out_of_scope"}
    voucher.refresh_from_db()
    assert voucher.status == "issued"


def test_in_scope_station_redeems(station_with_token, voucher_factory, redeem):
    station, token = station_with_token
    other = station_create(code="HUYE-01", name="Huye").station
    voucher = voucher_factory(stations=[other, station])
    assert redeem(token, {"code": voucher.code}).status_code == 200


def test_unknown_code_is_not_found(station_with_token, redeem):
    _, token = station_with_token
    response = redeem(token, {"code": "V-AAAA-BBBB-CCCC"})
    assert response.status_code == 404
    assert body(response) == {"error": "not_found"}


def test_already_redeemed_under_another_key(station_with_token, voucher_factory, redeem):
    _, token = station_with_token
    voucher = voucher_factory()
    first = body(redeem(token, {"code": voucher.code}, key="a"))
    response = redeem(token, {"code": voucher.code}, key="b")
    assert response.status_code == 409
    assert body(response) == {
        "error": "already_redeemed",
        "redeemed_at": first["voucher"]["redeemed_at"],
        "station": "KGL-001",
    }


def test_void_voucher(station_with_token, voucher_factory, redeem):
    _, token = station_with_token
    voucher = voucher_factory()
    voucher_void(voucher=voucher, reason="lost", actor=None)
    response = redeem(token, {"code": voucher.code})
    assert response.status_code == 409
    assert body(response) == {"error": "voucher_void"}


def test_expired_voucher(station_with_token, voucher_factory, redeem):
    _, token = station_with_token
    voucher = voucher_factory(expires_in_days=1)
    Voucher.objects.filter(pk=voucher.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = redeem(token, {"code": voucher.code})
    assert response.status_code == 409
    assert body(response) == {"error": "voucher_expired"}
    voucher.refresh_from_db()
    assert voucher.status == "issued"


def test_same_key_other_body_is_key_reused(station_with_token, voucher_factory, redeem):
    _, token = station_with_token
    one, two = voucher_factory(count=2)
    assert redeem(token, {"code": one.code}, key="same").status_code == 200
    response = redeem(token, {"code": two.code}, key="same")
    assert response.status_code == 422
    assert body(response) == {"error": "idempotency_key_reused"}
    two.refresh_from_db()
    assert two.status == "issued"
    reference_changed = redeem(token, {"code": one.code, "reference": "x"}, key="same")
    assert reference_changed.status_code == 422


def test_same_key_at_another_station_is_independent(station_with_token, voucher_factory, redeem):
    _, token = station_with_token
    other_token = station_create(code="HUYE-01", name="Huye").token
    one, two = voucher_factory(count=2)
    assert redeem(token, {"code": one.code}, key="shared").status_code == 200
    assert redeem(other_token, {"code": two.code}, key="shared").status_code == 200


def test_rate_limited_with_retry_after(station_with_token, voucher_factory, redeem, settings):
    settings.REDEEM_RATE_LIMIT_PER_MINUTE = 2
    _, token = station_with_token
    vouchers = voucher_factory(count=3)
    assert redeem(token, {"code": vouchers[0].code}).status_code == 200
    assert redeem(token, {"code": vouchers[1].code}).status_code == 200
    response = redeem(token, {"code": vouchers[2].code})
    assert response.status_code == 429
    assert body(response) == {"error": "rate_limited"}
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    vouchers[2].refresh_from_db()
    assert vouchers[2].status == "issued"


def test_get_is_refused_with_json(station_with_token, client):
    response = client.get("/api/station/redeem")
    assert response.status_code == 405
    assert body(response)["error"] == "invalid_request"


def test_every_attempt_is_logged(station_with_token, voucher_factory, redeem):
    station, token = station_with_token
    voucher = voucher_factory()
    redeem(token, {"code": voucher.code}, key="one")
    redeem(token, {"code": voucher.code}, key="one")
    redeem(token, {"code": voucher.code}, key="two")
    attempts = list(RedeemAttempt.objects.order_by("id"))
    assert [(a.outcome, a.http_status, a.idempotency_key) for a in attempts] == [
        ("redeemed", 200, "one"),
        ("replayed", 200, "one"),
        ("already_redeemed", 409, "two"),
    ]
    assert all(a.station == station and a.code == voucher.code for a in attempts)
    assert all(a.latency_ms >= 0 for a in attempts)


def test_redemption_is_audited(station_with_token, voucher_factory, redeem):
    from audit.models import AuditEntry

    _, token = station_with_token
    voucher = voucher_factory()
    redeem(token, {"code": voucher.code, "reference": "r-1"}, key="k")
    entry = AuditEntry.objects.get(action="voucher.redeemed")
    assert entry.target_id == str(voucher.pk)
    assert entry.actor_name == "station:KGL-001"
    assert entry.data["reference"] == "r-1"
