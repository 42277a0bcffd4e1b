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
