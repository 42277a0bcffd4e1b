"""Void, void-and-replace and scope change as services: rules, events, audit, permissions."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEntry
from vouchers.models import Voucher, VoucherEvent
from vouchers.services import (
    station_create,
    voucher_scope_set,
    voucher_void,
    voucher_void_and_replace,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def huye(db):
    return station_create(code="HUYE-01", name="Huye").station


def test_ops_voids_with_reason_event_and_audit(ops_user, voucher_factory):
    voucher = voucher_factory()
    voucher_void(voucher=voucher, reason="reported stolen", actor=ops_user)
    voucher.refresh_from_db()
    assert voucher.status == "void"
    event = voucher.events.get(kind=VoucherEvent.Kind.VOIDED)
    assert event.actor == ops_user and event.data["reason"] == "reported stolen"
    entry = AuditEntry.objects.get(action="voucher.voided")
    assert entry.actor_name == "olga-ops" and entry.target_id == str(voucher.pk)


def test_voiding_twice_changes_nothing(ops_user, voucher_factory):
    voucher = voucher_factory()
    voucher_void(voucher=voucher, reason="x", actor=ops_user)
    voucher_void(voucher=voucher, reason="x", actor=ops_user)
    assert voucher.events.filter(kind="voided").count() == 1


@pytest.mark.parametrize("persona", ["support_user", "auditor_user"])
@pytest.mark.parametrize("operation", ["void", "replace", "scope"])
def test_only_the_operate_permission_may_operate(request, persona, operation, voucher_factory):
    user = request.getfixturevalue(persona)
    voucher = voucher_factory()
    with pytest.raises(PermissionDenied):
        if operation == "void":
            voucher_void(voucher=voucher, reason="r", actor=user)
        elif operation == "replace":
            voucher_void_and_replace(voucher=voucher, reason="r", actor=user)
        else:
            voucher_scope_set(voucher=voucher, stations=[], actor=user, reason="r")
    voucher.refresh_from_db()
    assert voucher.status == "issued" and voucher.replaced_by is None
    assert not AuditEntry.objects.filter(action__startswith="voucher.").exists()


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_a_reason_is_required(ops_user, voucher_factory, reason):
    voucher = voucher_factory()
    with pytest.raises(ValidationError):
        voucher_void(voucher=voucher, reason=reason, actor=ops_user)
    voucher.refresh_from_db()
    assert voucher.status == "issued"


def test_void_and_replace_after_double_redemption(
    ops_user, voucher_factory, station_with_token, huye, redeem
):
    _, token = station_with_token
    voucher = voucher_factory(
        amount="7500", stations=[station_with_token[0], huye], expires_in_days=30
    )
    assert redeem(token, {"code": voucher.code}).status_code == 200

    new = voucher_void_and_replace(voucher=voucher, reason="double redemption", actor=ops_user)

    voucher.refresh_from_db()
    assert voucher.status == "void"
    assert voucher.replaced_by == new and new.replaces == voucher
    assert (new.amount, new.currency, new.status) == (voucher.amount, "RWF", "issued")
    assert new.expires_at == voucher.expires_at
    assert set(new.station_scope.values_list("code", flat=True)) == {"KGL-001", "HUYE-01"}
    assert new.code != voucher.code
    assert voucher.events.get(kind="replaced").data["replacement"] == new.code
    assert new.events.get(kind="replacement_issued").data["replaces"] == voucher.code
    assert AuditEntry.objects.get(action="voucher.replaced").data["replacement"] == new.code
    # Running the step again does no double harm.
    assert voucher_void_and_replace(voucher=voucher, reason="again", actor=ops_user) == new
    assert Voucher.objects.count() == 2


def test_scope_set_lets_the_right_station_redeem(
    ops_user, voucher_factory, station_with_token, huye, redeem
):
    station, token = station_with_token
    voucher = voucher_factory(stations=[huye])
    assert redeem(token, {"code": voucher.code}).status_code == 403

    voucher_scope_set(voucher=voucher, stations=[huye, station], actor=ops_user, reason="OCR")

    event = voucher.events.get(kind="scope_changed")
    assert event.data == {"reason": "OCR", "before": ["HUYE-01"], "after": ["HUYE-01", "KGL-001"]}
    assert AuditEntry.objects.filter(action="voucher.scope_changed").count() == 1
    assert redeem(token, {"code": voucher.code}).status_code == 200


def test_empty_scope_means_any_station(ops_user, voucher_factory, huye):
    voucher = voucher_factory(stations=[huye])
    voucher_scope_set(voucher=voucher, stations=[], actor=ops_user, reason="open it")
    assert not voucher.station_scope.exists()


def test_system_actor_may_operate(voucher_factory):
    voucher = voucher_factory()
    voucher_void(voucher=voucher, reason="runbook step", actor=None)
    assert AuditEntry.objects.get(action="voucher.voided").actor_name == "system"
