"""The suite-wide check (tests/vendor_contracts.py): a request a vendor would refuse fails the
test that made it, wherever it was made and whoever swallowed the error."""

import httpx
import pytest

from integrations import probes
from integrations.clients.base import shared_http_client
from integrations.clients.edge_functions import SendWhatsAppClient
from integrations.clients.keepalive import KeepAliveJsonPoster
from integrations.clients.vercel import VercelClient
from integrations.contracts import Violation
from integrations.errors import Rejected
from tests import vendor_contracts as plugin
from tests.vendor_contracts import VendorContractViolation


def test_a_violation_swallowed_by_the_code_under_test_is_still_caught(
    vendor_urls, respx_mock, vendor_contracts, settings
):
    settings.SUPABASE_PROJECT_REF = "short"  # the API takes 20 lowercase letters
    with vendor_contracts.expect() as caught:
        outcome = probes.probe_supabase_management()  # turns every exception into a tile
    assert outcome.state == probes.RED
    assert [(v.vendor, v.where) for v in caught] == [("supabase_management", "path.ref")]


def test_a_recorded_violation_fails_the_phase_that_made_it():
    phase = plugin._phase("the test")
    next(phase)  # the test runs…
    plugin.recorder.add([Violation("vercel", "POST /v13/deployments", "body", "needs one of")])
    with pytest.raises(VendorContractViolation, match="vercel POST /v13/deployments: body"):
        phase.send(None)  # …and returns normally, yet it fails


def test_an_undocumented_answer_is_caught_without_breaking_the_call(
    vendor_urls, respx_mock, vendor_contracts
):
    respx_mock.get("https://api.vercel.com/v9/projects/station-web").respond(
        403, json={"message": "not the documented body"}
    )
    with vendor_contracts.expect() as caught:
        with pytest.raises(Rejected):
            VercelClient().project_get()
    assert [(v.endpoint, v.where) for v in caught] == [
        ("GET /v9/projects/{idOrName} → 403", "body")
    ]


def test_a_request_to_an_address_no_contract_covers_is_caught(vendor_urls, vendor_contracts):
    with vendor_contracts.expect() as caught:
        with pytest.raises(VendorContractViolation):
            shared_http_client().get("https://example.org/anything")
    assert [v.where for v in caught] == ["url"]


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8787/supabase/v1", "https://api.supabase.com/v1"]
)
def test_simulator_traffic_gets_no_allowance(vendor_contracts, url):
    gap = Violation(
        "supabase_management",
        "GET /v1/projects/{ref}/functions",
        "path.ref",
        "fails minLength 20 (Project ref)",
    )
    with vendor_contracts.expect() as caught:
        with pytest.raises(VendorContractViolation):
            plugin._report([gap], httpx.URL(url), raise_now=True)
    assert caught == [gap]


def test_the_keep_alive_sender_is_checked_too(simulator, vendor_contracts):
    poster = KeepAliveJsonPoster(SendWhatsAppClient())
    try:
        with vendor_contracts.expect() as caught:
            with pytest.raises(VendorContractViolation):
                poster.post({"to": "+250788000001"})
    finally:
        poster.close()
    assert {v.message for v in caught} == {
        "'idempotency_key' is a required property",
        "'template' is a required property",
        "'variables' is a required property",
    }
    assert simulator.calls("whatsapp") == []
