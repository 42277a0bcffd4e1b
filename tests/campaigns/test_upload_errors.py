"""A file that cannot be a target list is refused with a message on the upload page (never a
500), and nothing is saved; a phone number with letters is an invalid row, never read as
keypad digits (libphonenumber would turn 0788-BAD-NUM into 0788-223-686)."""

import base64
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEntry
from campaigns import imports
from campaigns.models import Target
from campaigns.phones import phone_normalise

pytestmark = pytest.mark.django_db


def upload(client, campaign, content: bytes, name="targets.csv"):
    return client.post(
        f"/admin/campaigns/campaign/{campaign.pk}/upload/",
        {"file": SimpleUploadedFile(name, content, "text/csv"), "region": "RW"},
    )


def refused(response) -> str:
    assert response.status_code == 200
    html = response.content.decode()
    match = re.search(r'<li class="error">(.*?)</li>', html, re.S)
    assert match, "no error message on the page"
    assert not Target.objects.exists()
    assert not AuditEntry.objects.filter(action="campaign.targets_imported").exists()
    return match.group(1)


@pytest.mark.parametrize(
    "content, says",
    [
        (b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 4, "Excel workbook"),
        (bytes(range(256)) * 8, "binary file"),
        ("phone\n0788123456\n".encode("utf-16-le"), "binary file"),
        (b"phone,name\n0788123456,\x81\x8d\x8f\x90\x9d\n", "encoding cannot be read"),
        (b"", "The file is empty"),
        (b"  \n\n", "The file is empty"),
        (b"phone,name\n", "no targets under it"),
        (b"number,name\n0788123456,A\n", "no &#x27;phone&#x27; column"),
        (b'phone,name\n"0788123456,A\n' + b"x" * 200_000, "not a readable CSV"),
    ],
    ids=[
        "xlsx",
        "binary",
        "utf16-without-bom",
        "wrong-encoding",
        "empty",
        "blank",
        "header-only",
        "no-phone-column",
        "broken-quoting",
    ],
)
def test_unusable_files_are_refused_with_a_message(
    client_for, ops_user, campaign_factory, content, says
):
    campaign = campaign_factory(0, state="draft")
    message = refused(upload(client_for(ops_user), campaign, content))
    assert says in message


def test_a_file_over_the_limit_is_refused_before_it_is_read(
    client_for, ops_user, campaign_factory, monkeypatch
):
    monkeypatch.setattr(imports, "MAX_BYTES", 1024)
    campaign = campaign_factory(0, state="draft")
    content = b"phone\n" + b"0788123456\n" * 200
    assert "larger than" in refused(upload(client_for(ops_user), campaign, content))


def test_utf16_with_its_bom_and_windows_1252_are_read(client_for, ops_user, campaign_factory):
    campaign = campaign_factory(0, state="draft")
    client = client_for(ops_user)
    assert (
        upload(client, campaign, "phone,name\n0788123456,Aimé\n".encode("utf-16")).status_code
        == 302
    )
    assert (
        upload(client, campaign, "phone,name\n0788654321,Aimé\n".encode("cp1252")).status_code
        == 302
    )
    names = set(Target.objects.values_list("variables__name", flat=True))
    assert names == {"Aimé"}


def test_letters_in_a_number_make_an_invalid_row(client_for, ops_user, campaign_factory):
    campaign = campaign_factory(0, state="draft")
    response = upload(client_for(ops_user), campaign, b"phone\n0788123456\n0788-BAD-NUM\n")

    assert response.status_code == 200
    assert not Target.objects.exists()
    html = response.content.decode()
    report = base64.b64decode(re.search(r"base64,([^\"]+)", html).group(1)).decode()
    assert '3,0788-BAD-NUM,"letters in a phone number' in report


@pytest.mark.parametrize("raw", ["0788-BAD-NUM", "+250 788 ABC 456", "0788123456 ext 1"])
def test_letters_are_refused_before_parsing(raw):
    with pytest.raises(ValueError, match="letters"):
        phone_normalise(raw, region="RW")


def test_a_test_send_to_a_number_with_letters_is_refused(client_for, ops_user, campaign_factory):
    campaign = campaign_factory(0, state="draft")
    response = client_for(ops_user).post(
        f"/admin/campaigns/campaign/{campaign.pk}/send-test/",
        {"phone": "0788-BAD-NUM"},
        follow=True,
    )
    assert "letters in a phone number" in response.content.decode()
