"""Voucher operations in the admin: confirmation pages, permissions, the review page."""

import pytest
from django.urls import reverse

from vouchers.models import Voucher
from vouchers.services import station_create

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/vouchers/voucher/"


def _action_post(client, action, vouchers, **extra):
    data = {"action": action, "_selected_action": [v.pk for v in vouchers], **extra}
    return client.post(CHANGELIST, data)


def test_void_action_asks_for_confirmation_first(client_for, ops_user, voucher_factory):
    client = client_for(ops_user)
    voucher = voucher_factory()
    page = _action_post(client, "void_action", [voucher])
    assert page.status_code == 200
    assert b"Void vouchers" in page.content and voucher.code.encode() in page.content
    assert b"cannot be undone" in page.content
    voucher.refresh_from_db()
    assert voucher.status == "issued"


def test_void_action_without_reason_changes_nothing(client_for, ops_user, voucher_factory):
    client = client_for(ops_user)
    voucher = voucher_factory()
    page = _action_post(client, "void_action", [voucher], confirm="yes", reason="")
    assert page.status_code == 200
    assert b"This field is required" in page.content
    voucher.refresh_from_db()
    assert voucher.status == "issued"


def test_confirmed_void_action_voids(client_for, ops_user, voucher_factory):
    client = client_for(ops_user)
    vouchers = voucher_factory(count=2)
    response = _action_post(client, "void_action", vouchers, confirm="yes", reason="fraud")
    assert response.status_code == 302
    assert set(Voucher.objects.values_list("status", flat=True)) == {"void"}


def test_replace_action_shows_new_code(client_for, ops_user, voucher_factory):
    client = client_for(ops_user)
    voucher = voucher_factory()
    response = _action_post(
        client, "replace_action", [voucher], confirm="yes", reason="double redemption"
    )
    assert response.status_code == 302
    voucher.refresh_from_db()
    page = client.get(response.url)
    assert voucher.replaced_by.code.encode() in page.content


@pytest.mark.parametrize("persona", ["support_user", "auditor_user"])
def test_support_and_auditor_cannot_void(request, client_for, persona, voucher_factory):
    client = client_for(request.getfixturevalue(persona))
    voucher = voucher_factory()
    _action_post(client, "void_action", [voucher], confirm="yes", reason="x")
    page = client.get(reverse("admin:vouchers_voucher_operate", args=[voucher.pk, "void"]))
    assert page.status_code == 403
    post = client.post(
        reverse("admin:vouchers_voucher_operate", args=[voucher.pk, "void"]),
        {"confirm": "yes", "reason": "x"},
    )
    assert post.status_code == 403
    voucher.refresh_from_db()
    assert voucher.status == "issued"
    changelist = client.get(CHANGELIST)
    assert b"void_action" not in changelist.content


def test_scope_page_sets_scope(client_for, ops_user, voucher_factory):
    client = client_for(ops_user)
    huye = station_create(code="HUYE-01", name="Huye").station
    voucher = voucher_factory()
    url = reverse("admin:vouchers_voucher_operate", args=[voucher.pk, "scope"])
    page = client.get(url)
    assert page.status_code == 200 and b"HUYE-01" in page.content
    response = client.post(url, {"confirm": "yes", "reason": "OCR fix", "stations": [huye.pk]})
    assert response.status_code == 302
    assert list(voucher.station_scope.values_list("code", flat=True)) == ["HUYE-01"]


def test_review_page_shows_status_scope_events_and_attempts(
    client_for, support_user, station_with_token, voucher_factory, redeem
):
    _, token = station_with_token
    voucher = voucher_factory()
    redeem(token, {"code": voucher.code}, key="first-key")
    redeem(token, {"code": voucher.code}, key="second-key")
    client = client_for(support_user)
    change = client.get(reverse("admin:vouchers_voucher_change", args=[voucher.pk]))
    review_url = reverse("admin:vouchers_voucher_review", args=[voucher.pk])
    assert review_url.encode() in change.content
    page = client.get(review_url)
    assert page.status_code == 200
    content = page.content.decode()
    assert "redeemed" in content and "any station" in content
    assert "issued" in content  # the issued event
    assert "first-key" in content and "second-key" in content and "already_redeemed" in content
    assert "Void vouchers" not in content  # support may not operate


def test_redeem_log_filters_idempotency_failures(
    client_for, support_user, station_with_token, voucher_factory, redeem
):
    _, token = station_with_token
    one, two = voucher_factory(count=2)
    redeem(token, {"code": one.code}, key="kept-key")
    redeem(token, {"code": two.code}, key="kept-key")  # 422
    redeem(token, {"code": "V-NONE"}, key="other-key")  # 404
    client = client_for(support_user)
    page = client.get("/admin/vouchers/redeemattempt/", {"idempotency": "failures"})
    assert page.status_code == 200
    content = page.content.decode()
    assert "idempotency_key_reused" in content
    assert "V-NONE" not in content
    everything = client.get("/admin/vouchers/redeemattempt/", {"station__id__exact": 1})
    assert everything.status_code == 200
    dated = client.get("/admin/vouchers/redeemattempt/", {"outcome": "not_found"})
    assert "V-NONE" in dated.content.decode()


@pytest.mark.parametrize(
    "url", ["/admin/vouchers/redeemattempt/", CHANGELIST, "/admin/vouchers/voucherevent/"]
)
def test_growing_lists_never_count_the_whole_table(
    client_for, support_user, station_with_token, voucher_factory, redeem, url
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _, token = station_with_token
    voucher_factory(count=3)
    redeem(token, {"code": "V-NONE"})
    client = client_for(support_user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert counts, "the page shows a (bounded) result count"
    assert all("LIMIT" in sql.upper() for sql in counts), counts
