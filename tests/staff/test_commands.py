"""create_staff and create_api_token: exactly one role; a token printed once, kept as a hash."""

import hashlib
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from staff.models import ApiToken
from tests.db_search import database_contains


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_staff_puts_the_user_in_exactly_one_role(db):
    run("create_staff", "zoe", "--role", "support", "--password", "a-long-password-123")
    user = get_user_model().objects.get(username="zoe")
    assert user.is_staff and not user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == ["support"]
    assert user.check_password("a-long-password-123")
    run("create_staff", "zoe", "--role", "ops")
    assert list(user.groups.values_list("name", flat=True)) == ["ops"]
    assert user.check_password("a-long-password-123")  # re-roling keeps the password


def test_create_staff_rejects_an_unknown_role(db):
    with pytest.raises(CommandError):
        run("create_staff", "zoe", "--role", "god")


def test_create_api_token_prints_it_once_and_stores_only_its_hash(db, ops_user):
    token = run("create_api_token", ops_user.username, "--name", "script").strip().splitlines()[-1]
    assert token.startswith("opsp_")
    stored = ApiToken.objects.get(user=ops_user)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert not database_contains(token)


def test_create_api_token_for_unknown_user_fails_clearly(db):
    with pytest.raises(CommandError, match="No user"):
        run("create_api_token", "ghost")
