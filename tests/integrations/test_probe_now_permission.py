"""The service behind "Probe now" refuses anyone without integrations.run_probe."""

import pytest
from django.core.exceptions import PermissionDenied

from audit.models import AuditEntry
from integrations.models import ProbeResult
from integrations.services import probes_run_by

pytestmark = pytest.mark.django_db


def test_the_auditor_may_not_probe_now(auditor_user):
    with pytest.raises(PermissionDenied):
        probes_run_by(actor=auditor_user)
    assert not ProbeResult.objects.exists()
    assert not AuditEntry.objects.filter(action="integrations.probe_now").exists()


def test_forcing_a_probe_through_the_api_needs_the_permission_and_is_audited(
    client_for, auditor_user, support_user, simulator
):
    url = "/api/integrations/status"
    auditor = client_for(auditor_user)
    assert auditor.get(url, {"force": "true"}).status_code == 403
    assert not ProbeResult.objects.filter(forced=True).exists()
    assert auditor.get(url).status_code == 200  # reading the status is fine
    assert not ProbeResult.objects.filter(forced=True).exists()

    assert client_for(support_user).get(url, {"force": "true"}).status_code == 200
    assert ProbeResult.objects.filter(forced=True).exists()
    entry = AuditEntry.objects.get(action="integrations.probe_now")
    assert entry.actor == support_user
