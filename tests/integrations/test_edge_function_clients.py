"""Our two Edge Function clients against the simulator, over real sockets."""

import pytest

from integrations.clients.edge_functions import SendWhatsAppClient, VoucherPngClient
from integrations.errors import NotConfigured, RateLimited, Rejected, Timeout, Unavailable


def _send(key="k-1", to="+250788000001"):
    return SendWhatsAppClient().send(
        to=to, template="promo", variables={"name": "Ana"}, idempotency_key=key
    )


def test_send_returns_message_id_and_sends_both_credentials(simulator):
    message_id = _send()
    assert message_id.startswith("wamid.")
    call = simulator.calls("whatsapp")[-1]
    assert call["headers"]["authorization"] == "Bearer sim-functions-jwt"
    assert call["headers"]["apikey"] == "sim-functions-apikey"
    assert call["body"]["idempotency_key"] == "k-1"


def test_same_idempotency_key_is_sent_once(simulator):
    first = _send("same")
    second = _send("same")
    assert first == second
    assert simulator.send_count("same") == 1
    assert simulator.state()["duplicates"] == {"same": 1}
    assert simulator.sent_total() == 1


@pytest.mark.parametrize("wa_status", [429, 400])
@pytest.mark.parametrize("wa_code", ["130429", "131056", "4", "80007", "131048"])
def test_whatsapp_throttling_codes_are_rate_limited_whatever_the_status(
    simulator, wa_code, wa_status
):
    simulator.set_fault("whatsapp", wa_code=int(wa_code), wa_status=wa_status, retry_after=7)
    with pytest.raises(RateLimited) as exc:
        _send()
    assert exc.value.code == wa_code
    assert exc.value.status == wa_status
    assert exc.value.retry_after == 7.0
    assert exc.value.permanent is False
    assert simulator.sent_total() == 0


def test_plain_429_with_retry_after(simulator):
    simulator.set_fault("whatsapp", status=429, retry_after=3)
    with pytest.raises(RateLimited) as exc:
        _send()
    assert (exc.value.code, exc.value.retry_after) == ("429", 3.0)


def test_throttle_without_retry_after_has_none(simulator):
    simulator.set_fault("whatsapp", wa_code=130429, wa_status=429)
    with pytest.raises(RateLimited) as exc:
        _send()
    assert exc.value.retry_after is None


def test_throttle_for_one_recipient_leaves_others_alone(simulator):
    simulator.set_fault("whatsapp", wa_code=131056, numbers=["+250788000009"])
    with pytest.raises(RateLimited):
        _send("a", to="+250788000009")
    assert _send("b", to="+250788000001")


def test_invalid_number_422(simulator):
    simulator.set_fault("whatsapp", invalid_numbers=["+250788000002"])
    with pytest.raises(Rejected) as exc:
        _send(to="+250788000002")
    assert (exc.value.code, exc.value.status, exc.value.permanent) == ("invalid_number", 422, True)
    assert _send("other", to="+250788000003")


def test_invalid_number_as_whatsapp_131026_for_everyone(simulator):
    simulator.set_fault("whatsapp", invalid_numbers=["*"], invalid_mode="131026")
    with pytest.raises(Rejected) as exc:
        _send()
    assert (exc.value.code, exc.value.status) == ("131026", 400)


def test_not_in_allowed_list_131030(simulator):
    simulator.set_fault("whatsapp", wa_code=131030)
    with pytest.raises(Rejected) as exc:
        _send()
    assert exc.value.code == "131030"


@pytest.mark.parametrize("status", [500, 503, 504, 546])
def test_5xx_is_unavailable(simulator, status):
    simulator.set_fault("whatsapp", status=status)
    with pytest.raises(Unavailable) as exc:
        _send()
    assert exc.value.status == status
    assert exc.value.permanent is False


def test_revoked_key_is_rejected_401(simulator):
    simulator.set_fault("whatsapp", revoked=True)
    with pytest.raises(Rejected) as exc:
        _send()
    assert (exc.value.code, exc.value.status) == ("401", 401)


def test_hang_times_out(simulator, settings):
    settings.INTEGRATIONS_READ_TIMEOUT = 0.3
    simulator.set_fault("whatsapp", hang=True)
    with pytest.raises(Timeout):
        _send()


def test_connection_refused_is_unavailable(simulator, settings):
    simulator.stop()
    with pytest.raises(Unavailable) as exc:
        _send()
    assert exc.value.status is None


def test_switched_off_is_not_configured(simulator, settings):
    settings.SUPABASE_FUNCTIONS_ENABLED = False
    with pytest.raises(NotConfigured):
        _send()
    with pytest.raises(NotConfigured):
        VoucherPngClient().render(code="V-1")


def test_missing_url_is_not_configured(settings):
    settings.SUPABASE_URL = ""
    settings.SUPABASE_FUNCTIONS_ENABLED = True
    with pytest.raises(NotConfigured):
        _send()


def test_voucher_png_renders_a_png(simulator):
    png = VoucherPngClient().render(code="V-ABC-123")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert simulator.calls("voucher_png")[-1]["body"] == {"code": "V-ABC-123"}


@pytest.mark.parametrize(
    ("fault", "error", "code"),
    [
        ({"status": 503}, Unavailable, "BOOT_ERROR"),
        ({"status": 429, "retry_after": 2}, RateLimited, "429"),
        ({"revoked": True}, Rejected, "401"),
    ],
)
def test_voucher_png_faults(simulator, fault, error, code):
    simulator.set_fault("voucher_png", **fault)
    with pytest.raises(error) as exc:
        VoucherPngClient().render(code="V-1")
    assert exc.value.code == code


def test_voucher_png_hang_times_out(simulator, settings):
    settings.INTEGRATIONS_READ_TIMEOUT = 0.3
    simulator.set_fault("voucher_png", hang=True)
    with pytest.raises(Timeout):
        VoucherPngClient().render(code="V-1")
