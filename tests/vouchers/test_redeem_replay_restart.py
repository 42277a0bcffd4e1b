"""A stored response outlives the process: replay after a 'restart' is byte-identical."""

import pytest
from django.core.cache import caches
from django.db import connections
from django.test import Client

from vouchers.openapi import schema_json

pytestmark = pytest.mark.django_db(transaction=True)


def _restart():
    connections.close_all()
    for cache in caches.all():
        cache.clear()
    schema_json.cache_clear()


def test_replay_after_restart_returns_the_identical_body(
    station_with_token, voucher_factory, redeem
):
    _, token = station_with_token
    voucher = voucher_factory()
    first = redeem(token, {"code": voucher.code, "reference": "r"}, key="k-1", client=Client())
    assert first.status_code == 200

    _restart()
    again = redeem(token, {"code": voucher.code, "reference": "r"}, key="k-1", client=Client())

    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
