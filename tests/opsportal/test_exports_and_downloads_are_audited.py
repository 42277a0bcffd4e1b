"""Exports and downloads are audited: who took which data out of the portal. The
failed-targets CSV, the postmortem (auditors' downloads included), the audit export."""

import pytest
from django.urls import reverse

from audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_the_failed_targets_export(client_for, auditor_user):
    from campaigns.models import Campaign

    campaign = Campaign.objects.create(name="Promo", template="promo_v1")
    response = client_for(auditor_user).get(f"/api/campaigns/{campaign.pk}/failed-targets.csv")
    assert response.status_code == 200
    b"".join(response.streaming_content)
    entry = AuditEntry.objects.get(action="campaign.targets_exported")
    assert entry.actor == auditor_user and entry.target_id == str(campaign.pk)


def test_an_unknown_campaign_is_a_404_and_not_audited(client_for, auditor_user):
    response = client_for(auditor_user).get("/api/campaigns/999999/failed-targets.csv")
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action="campaign.targets_exported").exists()


def test_a_postmortem_download(client_for, auditor_user, admin_user):
    from incidents.services import incident_open

    incident, _ = incident_open(runbook_key="station_redeem", actor=admin_user)
    url = reverse("admin:incidents_incident_postmortem", args=[incident.pk])
    response = client_for(auditor_user).get(url)
    assert response.status_code == 200 and b"Postmortem" in response.content
    entry = AuditEntry.objects.get(action="incident.postmortem_downloaded")
    assert entry.actor == auditor_user and entry.incident_id == incident.pk
    assert entry.data["draft"] is True


def test_the_audit_export(client_for, auditor_user):
    response = client_for(auditor_user).get(reverse("admin:audit_auditentry_export", args=["csv"]))
    assert response.status_code == 200
    b"".join(response.streaming_content)
    assert AuditEntry.objects.filter(action="audit.exported", actor=auditor_user).exists()
