"""Runbook 3.1 ("honor retry-after and reschedule sends") starts from the Retry-After the
WhatsApp function last returned for the campaign, shown next to the field; the backoff it
sets survives the resume (5.2)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.dispatch import SliceRunner
from campaigns.models import Campaign, Target
from incidents.services import Impacted, incident_open

# The dispatcher sends from worker threads with their own connections: real commits.
pytestmark = pytest.mark.django_db(transaction=True)


def test_the_reschedule_step_defaults_to_the_providers_retry_after_and_resume_keeps_it(
    simulator, settings, ops_user, run_step, step_of, client_for
):
    settings.INTEGRATIONS_READ_TIMEOUT = 2
    settings.CAMPAIGN_LEASE_SECONDS = 5
    campaign = Campaign.objects.create(
        name="Promo", template="promo_v1", state="running", started_at=timezone.now()
    )
    Target.objects.bulk_create(
        [Target(campaign=campaign, phone=f"+25078{i:07d}") for i in range(3)]
    )
    simulator.set_fault("whatsapp", status=429, retry_after=37)
    SliceRunner(campaign.pk, slice_seconds=1).run()
    simulator.clear_faults()
    campaign.refresh_from_db()
    assert campaign.provider_retry_after == 37

    incident, _ = incident_open(
        runbook_key="whatsapp_send",
        actor=ops_user,
        impacted=[Impacted("campaigns.campaign", campaign.pk, campaign.name)],
    )
    page = client_for(ops_user).get(reverse("admin:incidents_incident_work", args=[incident.pk]))
    html = page.content.decode()
    assert "the WhatsApp function last asked for Retry-After 37 s" in html
    assert 'name="param_seconds" value="37"' in html

    run_step(incident, "pause_all", ops_user)
    before = timezone.now()
    reschedule = run_step(incident, "reschedule", ops_user)  # no seconds typed
    assert reschedule.params["seconds"] == 37
    campaign.refresh_from_db()
    held = campaign.backoff_until
    assert 36 <= (held - before).total_seconds() <= 38 and campaign.backoff_retry_after == 37

    resumed = run_step(incident, "resume", ops_user)  # 5.2: the backoff is not wiped
    campaign.refresh_from_db()
    assert resumed.status == "succeeded" and campaign.state == "running"
    assert campaign.backoff_until == held and campaign.next_send_at == held
    assert SliceRunner(campaign.pk, slice_seconds=2).run().reason == "waiting"
