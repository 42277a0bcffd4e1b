import pytest
from django.urls import reverse

from incidents.detectors import _DETECTORS, detectors_run_all
from incidents.models import Incident
from staff.services import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db


def test_a_revoked_staff_token_used_against_the_api_opens_a_credential_leak_incident(
    client, ops_user
):
    issued = api_token_create(user=ops_user)
    api_token_revoke(token=issued.token, actor=ops_user)
    response = client.get(
        reverse("staff-api:me"), headers={"authorization": f"Bearer {issued.plaintext}"}
    )
    assert response.status_code == 401
    assert detectors_run_all(only=("revoked_token_use",))["revoked_token_use"]["opened"] == 1
    assert detectors_run_all(only=("revoked_token_use",))["revoked_token_use"]["existing"] == 1
    incident = Incident.objects.get()
    assert incident.runbook_key == "credential_leak" and incident.severity == "sev1"
    assert incident.dedup_key == f"revoked_token:{issued.token.pk}"


def test_a_spike_of_idempotency_failures_opens_a_station_redeem_incident(
    settings, station_with_token
):
    from django.utils import timezone

    from vouchers.models import RedeemAttempt

    settings.REDEEM_IDEMPOTENCY_SPIKE = 3
    station, _ = station_with_token
    RedeemAttempt.objects.bulk_create(
        RedeemAttempt(
            at=timezone.now(),
            station=station,
            idempotency_key=f"k{i}",
            code="X",
            outcome="idempotency_key_reused",
            http_status=422,
            latency_ms=1.0,
        )
        for i in range(3)
    )
    detectors_run_all(only=("idempotency_spike",))
    assert Incident.objects.get().dedup_key == "idempotency_spike"


def test_a_broken_detector_does_not_silence_the_others(monkeypatch, voucher_factory):
    def broken():
        raise RuntimeError("boom")

    monkeypatch.setitem(_DETECTORS, "aaa_broken", broken)
    summary = detectors_run_all()
    assert summary["aaa_broken"] == {"error": True}
    assert "double_redemption" in summary and "error" not in summary["double_redemption"]


def test_a_service_role_key_in_our_logs_opens_a_credential_leak_incident():
    import logging

    from audit.redaction import fingerprint

    key = "sb_secret_" + "Zz9Yy8Xx7Ww6Vv5U"
    # Through real logging: the record is masked at creation, the console handler's
    # sighting filter still recognises the key's fingerprint.
    logging.getLogger("vendor.sdk").warning("auth with %s", key)
    detectors_run_all(only=("secret_in_logs",))
    incident = Incident.objects.get(runbook_key="credential_leak")
    assert incident.dedup_key == f"secret_in_logs:{fingerprint(key)}"
    assert key not in incident.dedup_key and key not in incident.timeline.first().message
