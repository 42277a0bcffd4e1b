"""A step's parameters are one Django form: the page renders it (prefilled from the runbook
and the incident's objects) and the same form validates what the page, the API or a re-run
submits."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from campaigns.models import Campaign
from incidents.models import StepRun
from incidents.services import step_run_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def whatsapp_incident(open_incident, ops_user):
    campaign = Campaign.objects.create(name="form-check", template="t")
    incident = open_incident(
        "whatsapp_send", actor=ops_user, impacted=[("campaigns.campaign", campaign.pk, "c")]
    )
    return incident, campaign


def test_the_page_renders_each_step_form_prefilled(client_for, ops_user, whatsapp_incident):
    incident, campaign = whatsapp_incident
    page = (
        client_for(ops_user)
        .get(reverse("admin:incidents_incident_work", args=[incident.pk]))
        .content.decode()
    )
    # The campaign id comes from the incident's impacted campaign, the seconds from the Param.
    assert f'name="param_campaign_id" value="{campaign.pk}"' in page
    assert 'name="param_seconds" value="60"' in page
    # A text parameter is a textarea holding the runbook's words.
    assert '<textarea name="param_text"' in page and "failing for more than 15 minutes" in page


def test_the_page_posts_back_what_the_form_rendered(client_for, ops_user, whatsapp_incident):
    incident, campaign = whatsapp_incident
    step = incident.steps.get(key="reschedule")
    client_for(ops_user).post(
        reverse("admin:incidents_incident_act", args=[incident.pk]),
        {
            "op": "dry_run",
            "step": step.pk,
            "param_campaign_id": str(campaign.pk),
            "param_seconds": " 90 ",
        },
    )
    run = StepRun.objects.get(step=step)
    assert run.params == {"campaign_id": campaign.pk, "seconds": 90} and run.dry_run


@pytest.mark.parametrize(
    "params, message",
    [
        ({"seconds": "soon"}, "Retry-After (seconds): a whole number is required."),
        ({"campaign_id": ""}, "Campaign id is required."),
        ({"nonsense": 1}, "Unknown parameter(s): nonsense."),
    ],
)
def test_bad_parameters_are_refused_with_the_form_message(
    ops_user, whatsapp_incident, params, message
):
    incident, _ = whatsapp_incident
    with pytest.raises(ValidationError) as refused:
        step_run_request(step=incident.steps.get(key="reschedule"), actor=ops_user, params=params)
    assert refused.value.messages == [message]
    assert not StepRun.objects.exists()


def test_lists_and_pasted_credentials_are_cleaned_by_the_same_form(ops_user, whatsapp_incident):
    incident, campaign = whatsapp_incident
    key = "sb_secret_" + "Z9y8X7w6V5u4T3s2"
    run = step_run_request(
        step=incident.steps.get(key="notify_provider"),
        actor=ops_user,
        params={"campaign_ids": f"{campaign.pk},\n{campaign.pk}", "text": f"see {key}"},
        dry_run=True,
    )
    assert run.params["campaign_ids"] == [campaign.pk, campaign.pk]
    assert key not in run.params["text"] and "redacted" in run.params["text"]
