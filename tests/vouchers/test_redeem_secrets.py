"""The station token never reaches logs, the attempt log, events or the audit log."""

import logging

import pytest

from audit.models import AuditEntry
from audit.redaction import mask_text
from vouchers.models import RedeemAttempt, VoucherEvent

pytestmark = pytest.mark.django_db


def test_token_never_logged_or_stored(station_with_token, voucher_factory, redeem, caplog):
    station, token = station_with_token
    voucher = voucher_factory()
    caplog.set_level(logging.DEBUG)
    redeem(token, {"code": voucher.code})
    redeem(token, {"code": voucher.code})  # 409
    redeem(token, {"code": "V-NONE"})  # 404
    redeem(token, {"code": voucher.code, "bad": 1})  # 400
    redeem(token + "x", {"code": voucher.code})  # 401 with a near-miss token

    secret_part = token.removeprefix("stn_")
    assert secret_part not in caplog.text
    stored = [
        *RedeemAttempt.objects.values_list("idempotency_key", "code", "reference", "request_id"),
        *VoucherEvent.objects.values_list("data", "actor_name"),
        *AuditEntry.objects.values_list("data", "target_repr", "actor_name"),
    ]
    assert RedeemAttempt.objects.count() == 5
    assert secret_part not in repr(stored)
    assert station.token_hash not in repr(stored)


@pytest.mark.parametrize("engine", ["sql", "orm"])
def test_secret_looking_key_and_reference_are_redacted_in_the_audit_entry(
    station_with_token, voucher_factory, redeem, settings, engine
):
    settings.REDEEM_ENGINE = engine
    _, token = station_with_token
    voucher = voucher_factory()
    key, reference = "sb_secret_abcdefgh12345678", "Bearer abcdefghijklmnopqrstuvwx"
    assert redeem(token, {"code": voucher.code, "reference": reference}, key=key).status_code == 200
    entry = AuditEntry.objects.get(action="voucher.redeemed")
    assert entry.data["idempotency_key"] == mask_text(key) != key
    assert entry.data["reference"] == mask_text(reference) != reference
    assert entry.data["station"] == "KGL-001" and entry.data["amount"] == "5000.00"


@pytest.mark.parametrize("engine", ["sql", "orm"])
def test_secret_looking_key_and_reference_are_masked_wherever_they_are_stored(
    station_with_token, voucher_factory, redeem, settings, engine
):
    """The event and the attempt log keep them masked too; the idempotency still works
    on the raw key (a replay is recognised)."""
    settings.REDEEM_ENGINE = engine
    _, token = station_with_token
    voucher = voucher_factory()
    key, reference = "sb_secret_abcdefgh12345678", "Bearer abcdefghijklmnopqrstuvwx"
    body = {"code": voucher.code, "reference": reference}
    assert redeem(token, body, key=key).status_code == 200
    assert redeem(token, body, key=key).headers.get("Idempotent-Replayed") == "true"
    event = VoucherEvent.objects.get(kind="redeemed")
    assert event.data == {"idempotency_key": mask_text(key), "reference": mask_text(reference)}
    attempts = list(RedeemAttempt.objects.values_list("idempotency_key", "reference"))
    assert attempts == [(mask_text(key), mask_text(reference))] * 2
    assert "abcdefgh12345678" not in repr(attempts) + repr(event.data)


def test_a_malformed_secret_looking_key_is_masked_in_the_attempt_log(
    station_with_token, voucher_factory, redeem
):
    _, token = station_with_token
    key = "sb_secret_abcdefgh12345678 with spaces"  # not a valid key: a 400, still logged
    assert redeem(token, {"code": voucher_factory().code}, key=key).status_code == 400
    assert RedeemAttempt.objects.get().idempotency_key == mask_text(key)
