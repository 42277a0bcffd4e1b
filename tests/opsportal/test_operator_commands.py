"""The operator commands for stations, vouchers and the demo (staff ones: tests/staff):
what they print, and what they keep (hashes, never tokens)."""

import hashlib
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from tests.db_search import database_contains
from vouchers.models import Station, Voucher, VoucherEvent


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_station_prints_the_token_once_and_stores_only_its_hash(db):
    output = run("create_station", "kgl-010", "--name", "Kigali Kicukiro")
    token = output.strip().splitlines()[-1]
    assert token.startswith("stn_") and len(token) > 40
    station = Station.objects.get(code="KGL-010")
    assert station.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert not database_contains(token)


def test_create_station_refuses_a_duplicate_code(db):
    run("create_station", "KGL-011", "--name", "A")
    with pytest.raises(CommandError, match="already exists"):
        run("create_station", "KGL-011", "--name", "B")


def test_issue_vouchers_prints_unique_codes_one_per_line(db):
    run("create_station", "KGL-012", "--name", "A")
    output = run(
        "issue_vouchers",
        "--count",
        "250",
        "--amount",
        "5000.50",
        "--currency",
        "rwf",
        "--station",
        "KGL-012",
        "--expires-in-days",
        "30",
    )
    codes = output.split()
    assert len(codes) == len(set(codes)) == 250
    vouchers = Voucher.objects.filter(code__in=codes)
    assert vouchers.count() == 250
    voucher = vouchers.first()
    assert (str(voucher.amount), voucher.currency, voucher.status) == ("5000.50", "RWF", "issued")
    assert [s.code for s in voucher.station_scope.all()] == ["KGL-012"]
    assert voucher.expires_at is not None
    assert VoucherEvent.objects.filter(voucher__in=vouchers, kind="issued").count() == 250


@pytest.mark.parametrize(
    "args, message",
    [
        (["--count", "0", "--amount", "1", "--currency", "RWF"], "count"),
        (["--count", "1", "--amount", "abc", "--currency", "RWF"], "not a number"),
        (["--count", "1", "--amount", "-3", "--currency", "RWF"], "positive"),
        (["--count", "1", "--amount", "1.234", "--currency", "RWF"], "two decimal"),
        (["--count", "1", "--amount", "1", "--currency", "RWFX"], "ISO 4217"),
        (
            ["--count", "1", "--amount", "1", "--currency", "RWF", "--station", "NOPE"],
            "Unknown station",
        ),
    ],
)
def test_issue_vouchers_explains_bad_input_and_issues_nothing(db, args, message):
    with pytest.raises(CommandError, match=message):
        run("issue_vouchers", *args)
    assert Voucher.objects.count() == 0


def test_demo_is_idempotent_and_creates_one_login_per_role(db):
    first = run("demo")
    counts = (Station.objects.count(), Voucher.objects.count(), get_user_model().objects.count())
    second = run("demo")
    assert counts == (
        Station.objects.count(),
        Voucher.objects.count(),
        get_user_model().objects.count(),
    )
    assert counts[1] >= 300
    for role in ["support", "ops", "admin", "auditor"]:
        assert (
            f"{role}" in first
            and get_user_model().objects.get(username=role).groups.filter(name=role).exists()
        )
    # station tokens are shown once (demo --tokens issues new ones)
    assert "token (shown once)" in first and "token (shown once)" not in second
