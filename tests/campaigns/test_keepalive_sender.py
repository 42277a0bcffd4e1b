"""The dispatcher's lean send path answers exactly like SendWhatsAppClient.send."""

import pytest

from integrations.clients.edge_functions import SendWhatsAppClient
from integrations.clients.keepalive import KeepAliveWhatsAppSender
from integrations.errors import NotConfigured, RateLimited, Rejected, Timeout, Unavailable


def send(sender, key="k1", to="+250780000001"):
    return sender.send(to=to, template="t", variables={}, idempotency_key=key)


@pytest.mark.parametrize(
    "fault, error, code, retry_after",
    [
        ({"invalid_numbers": ["*"]}, Rejected, "invalid_number", None),
        ({"status": 429, "retry_after": 7}, RateLimited, "429", 7.0),
        ({"wa_code": 131048, "wa_status": 400}, RateLimited, "131048", None),
        ({"status": 503}, Unavailable, "BOOT_ERROR", None),
    ],
)
def test_errors_are_classified_like_the_client(sim, fault, error, code, retry_after):
    sim.set_fault("whatsapp", **fault)
    lean = KeepAliveWhatsAppSender(SendWhatsAppClient())
    with pytest.raises(error) as lean_error:
        send(lean)
    with pytest.raises(error) as client_error:
        send(SendWhatsAppClient())
    assert lean_error.value.code == client_error.value.code == code
    assert getattr(lean_error.value, "retry_after", None) == retry_after


def test_one_connection_serves_many_sends_and_the_key_is_sent_once(sim):
    lean = KeepAliveWhatsAppSender(SendWhatsAppClient())
    ids = [send(lean, key=f"k{i}") for i in range(5)]
    assert send(lean, key="k0") == ids[0]  # the EF answers a repeated key from its record
    assert sim.sent_total() == 5


def test_a_connection_closed_by_the_server_is_replaced(sim):
    lean = KeepAliveWhatsAppSender(SendWhatsAppClient())
    send(lean, key="a")
    lean.poster.conn.sock.close()  # as if the server dropped the idle keep-alive connection
    assert send(lean, key="b").startswith("wamid.")


def test_no_answer_in_time_is_timeout(sim, settings):
    settings.INTEGRATIONS_READ_TIMEOUT = 0.3
    sim.set_fault("whatsapp", hang=True, hang_seconds=2)
    with pytest.raises(Timeout):
        send(KeepAliveWhatsAppSender(SendWhatsAppClient()))


def test_not_configured_is_refused_up_front(settings):
    settings.SUPABASE_URL = ""
    with pytest.raises(NotConfigured):
        KeepAliveWhatsAppSender(SendWhatsAppClient())
