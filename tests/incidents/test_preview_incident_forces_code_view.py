"""While a Voucher Preview incident is open, previews stay in code view even if the EF
answers again; resolving the incident brings the PNG back."""

from incidents.models import Incident
from incidents.services.incidents import incident_open, incident_status_set

PREVIEW = "/admin/vouchers/voucher/preview/"


def test_an_open_preview_incident_forces_the_code_view_until_resolved(
    client_for, support_user, ops_user, simulator
):
    client = client_for(support_user)
    assert 'data-result="ok"' in client.get(PREVIEW, {"code": "V-1"}).content.decode()

    incident, _ = incident_open(runbook_key="voucher_preview", actor=support_user)
    calls_before = len(simulator.calls("voucher_png"))
    html = client.get(PREVIEW, {"code": "V-1"}).content.decode()
    assert 'data-result="degraded"' in html
    assert f"incident #{incident.pk} is open" in html
    assert 'class="voucher-code"' in html and "fallback to code view" in html
    assert len(simulator.calls("voucher_png")) == calls_before  # the EF is not even asked

    incident_status_set(
        incident=incident,
        status=Incident.Status.RESOLVED,
        actor=ops_user,
        note="the remaining steps do not apply",
    )
    assert 'data-result="ok"' in client.get(PREVIEW, {"code": "V-1"}).content.decode()
