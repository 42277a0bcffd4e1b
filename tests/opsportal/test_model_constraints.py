"""The database itself refuses what the models say is impossible."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction

from campaigns.models import Campaign, Target
from vouchers.models import Station, Voucher


@pytest.fixture
def campaign(db):
    return Campaign.objects.create(name="Promo", template="promo_v1")


def test_voucher_codes_are_unique(db):
    Voucher.objects.create(code="V-AAAA", amount=Decimal("10"), currency="RWF")
    with pytest.raises(IntegrityError), transaction.atomic():
        Voucher.objects.create(code="V-AAAA", amount=Decimal("20"), currency="RWF")


def test_station_codes_are_unique(db):
    Station.objects.create(code="KGL-009", name="A")
    with pytest.raises(IntegrityError), transaction.atomic():
        Station.objects.create(code="KGL-009", name="B")


def test_money_is_decimal_and_exact(voucher_factory):
    voucher = voucher_factory(amount="1234.56")
    voucher.refresh_from_db()
    assert isinstance(voucher.amount, Decimal)
    assert voucher.amount == Decimal("1234.56")


@pytest.mark.parametrize("amount", ["0", "-5"])
def test_amount_must_be_positive_in_the_database(db, amount):
    with pytest.raises(IntegrityError), transaction.atomic():
        Voucher.objects.create(code="V-NEG", amount=Decimal(amount), currency="RWF")


def test_redeemed_voucher_needs_time_and_station(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        Voucher.objects.create(code="V-R", amount=Decimal("1"), currency="RWF", status="redeemed")


@pytest.mark.parametrize(
    "phone", ["0788123456", "+0788123456", "+2507881234567890", "250788123456", "+25078812a456"]
)
def test_phone_must_be_e164_in_the_database(campaign, phone):
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        Target.objects.create(campaign=campaign, phone=phone)


def test_phone_validator_explains_e164(campaign):
    with pytest.raises(ValidationError, match="E.164"):
        Target(campaign=campaign, phone="0788123456").full_clean()


def test_one_target_per_phone_per_campaign(campaign):
    Target.objects.create(campaign=campaign, phone="+250788123456")
    with pytest.raises(IntegrityError), transaction.atomic():
        Target.objects.create(campaign=campaign, phone="+250788123456")
    other = Campaign.objects.create(name="Other", template="promo_v1")
    Target.objects.create(campaign=other, phone="+250788123456")  # another campaign is fine


def test_campaign_time_zone_must_be_iana(campaign):
    campaign.time_zone = "Mars/Olympus"
    with pytest.raises(ValidationError, match="IANA"):
        campaign.full_clean()
    campaign.time_zone = "Africa/Kigali"
    campaign.full_clean()


def test_quiet_hours_need_both_ends(campaign):
    campaign.quiet_hours_start = "21:00"
    with pytest.raises(IntegrityError), transaction.atomic():
        campaign.save()
