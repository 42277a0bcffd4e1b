import itertools
import json

import pytest
from django.db import connection
from django.test import Client

_keys = itertools.count(1)


def new_key() -> str:
    return f"key-{next(_keys)}"


@pytest.fixture
def redeem():
    """`redeem(token, body, key=…)` → the test client's response to POST /api/station/redeem."""

    def _post(
        token,
        body=None,
        *,
        key="auto",
        raw=None,
        content_type="application/json",
        client=None,
        headers=None,
    ):
        extra = dict(headers or {})
        if token is not None:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        if key == "auto":
            key = new_key()
        if key is not None:
            extra["HTTP_IDEMPOTENCY_KEY"] = key
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return (client or Client()).post(
            "/api/station/redeem", data=data, content_type=content_type, **extra
        )

    return _post


def run_in_threads(count: int, fn):
    """Run fn(i) in `count` threads started together; each closes its own DB connection."""
    import threading

    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list = []

    def worker(i):
        try:
            barrier.wait(timeout=30)
            results[i] = fn(i)
        except Exception as exc:  # surfaced by the caller's assert
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return results


def raw_connection():
    """A second PostgreSQL session on the test database (autocommit), e.g. to hold a lock."""
    import psycopg

    s = connection.settings_dict
    return psycopg.connect(
        host=s["HOST"],
        port=s["PORT"] or 5432,
        user=s["USER"],
        password=s["PASSWORD"] or None,
        dbname=s["NAME"],
        autocommit=True,
    )
