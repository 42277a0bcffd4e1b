"""CSV targets upload in the admin: E.164, all-or-nothing, idempotent, with a report."""

import base64
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEntry
from campaigns.models import Target

pytestmark = pytest.mark.django_db


def upload(client, campaign, text, region="RW"):
    return client.post(
        f"/admin/campaigns/campaign/{campaign.pk}/upload/",
        {"file": SimpleUploadedFile("targets.csv", text.encode(), "text/csv"), "region": region},
    )


GOOD = "phone,first_name\n0788 123 456,Aline\n+250 722-123-456,Bosco\n00250788654321,Claude\n"


def test_a_valid_file_is_normalised_to_e164_and_imported(client_for, ops_user, campaign_factory):
    campaign = campaign_factory(0, state="draft")

    response = upload(client_for(ops_user), campaign, GOOD)

    assert response.status_code == 302
    rows = dict(Target.objects.filter(campaign=campaign).values_list("phone", "variables"))
    assert rows == {
        "+250788123456": {"first_name": "Aline"},
        "+250722123456": {"first_name": "Bosco"},
        "+250788654321": {"first_name": "Claude"},
    }
    assert AuditEntry.objects.get(action="campaign.targets_imported").data["created"] == 3


def test_uploading_the_same_file_again_adds_nothing(client_for, ops_user, campaign_factory):
    campaign = campaign_factory(0, state="draft")
    client = client_for(ops_user)
    upload(client, campaign, GOOD)

    response = upload(client, campaign, GOOD, region="RW")

    assert response.status_code == 302
    assert Target.objects.filter(campaign=campaign).count() == 3
    assert AuditEntry.objects.filter(action="campaign.targets_imported").order_by(
        "id"
    ).last().data == {"rows": 3, "created": 0, "unchanged": 3, "region": "RW"}


def test_one_invalid_row_rejects_the_whole_file_with_a_downloadable_report(
    client_for, ops_user, campaign_factory
):
    campaign = campaign_factory(0, state="draft")
    text = GOOD + "12345,Too short\nnot-a-phone,Bad\n0788 123 456,Duplicate\n"

    response = upload(client_for(ops_user), campaign, text)

    assert response.status_code == 200
    assert Target.objects.filter(campaign=campaign).count() == 0
    html = response.content.decode()
    assert "3 invalid rows: nothing was imported" in html
    href = re.search(r'href="data:text/csv;base64,([^"]+)"', html).group(1)
    report = base64.b64decode(href).decode().splitlines()
    assert report[0] == "line,phone,reason"
    assert [r.split(",")[0] for r in report[1:]] == ["5", "6", "7"]
    assert "same number as line 2" in report[3]


def test_a_file_without_a_phone_column_is_refused(client_for, ops_user, campaign_factory):
    campaign = campaign_factory(0, state="draft")
    response = upload(client_for(ops_user), campaign, "number,name\n0788123456,A\n")
    assert "no &#x27;phone&#x27; column" in response.content.decode()
    assert not Target.objects.exists()


def test_support_may_not_upload(client_for, support_user, campaign_factory):
    campaign = campaign_factory(0, state="draft")
    assert upload(client_for(support_user), campaign, GOOD).status_code == 403
    assert not Target.objects.exists()
