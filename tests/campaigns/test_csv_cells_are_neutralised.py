"""Every CSV the portal writes neutralises cells a spreadsheet would run as a formula
(starting with =, +, -, @, tab or CR) with a leading quote — the one function
audit.verify_export.csv_escape, which the audit export uses too (its verifier reverses
it). Here: the failed-targets export and the upload error report; an exported phone
(`'+250…`) can be uploaded again."""

import base64
import csv
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.models import Target

pytestmark = pytest.mark.django_db

FORMULAS = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


def _export(client, campaign) -> list[list[str]]:
    response = client.get(f"/api/campaigns/{campaign.pk}/failed-targets.csv")
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_failed_targets_export(client_for, ops_user, campaign_factory):
    campaign = campaign_factory(0, state="paused")
    for i, formula in enumerate(FORMULAS):
        Target.objects.create(
            campaign=campaign,
            phone=f"+25078800000{i}",
            status="failed",
            last_error_code=formula,
            variables={"name": formula},
        )
    rows = _export(client_for(ops_user), campaign)[1:]
    assert [r[3] for r in rows] == ["'" + f for f in FORMULAS]
    assert all(r[0].startswith("'+2507880000") for r in rows)
    assert all(r[5].startswith('{"name":') for r in rows)  # JSON: starts with "{", safe


def test_the_upload_error_report(client_for, ops_user, campaign_factory):
    campaign = campaign_factory(0, state="draft")
    text = "phone,name\n=cmd|' /C calc'!A0,x\n@SUM(1+1),y\n"
    response = client_for(ops_user).post(
        f"/admin/campaigns/campaign/{campaign.pk}/upload/",
        {"file": SimpleUploadedFile("t.csv", text.encode(), "text/csv"), "region": "RW"},
    )
    href = re.search(r'href="data:text/csv;base64,([^"]+)"', response.content.decode()).group(1)
    report = list(csv.reader(io.StringIO(base64.b64decode(href).decode())))
    assert [row[1] for row in report[1:]] == ["'=cmd|' /C calc'!A0", "'@SUM(1+1)"]


def test_an_exported_phone_uploads_again(client_for, ops_user, campaign_factory):
    source = campaign_factory(0, state="paused")
    Target.objects.create(campaign=source, phone="+250788123456", status="failed")
    client = client_for(ops_user)
    exported = "phone\n" + "\n".join(row[0] for row in _export(client, source)[1:]) + "\n"
    assert "'+250788123456" in exported
    target = campaign_factory(0, state="draft", name="Again")
    response = client.post(
        f"/admin/campaigns/campaign/{target.pk}/upload/",
        {"file": SimpleUploadedFile("t.csv", exported.encode(), "text/csv"), "region": "RW"},
    )
    assert response.status_code == 302
    assert list(Target.objects.filter(campaign=target).values_list("phone", flat=True)) == [
        "+250788123456"
    ]
