"""The OpenAPI document at /api/schema/ describes the code; schemathesis finds no 5xx
and no response outside the schema (bounded number of examples, in-process WSGI)."""

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from vouchers.openapi import SCHEMA
from vouchers.redeem import MAX_CODE_LENGTH, MAX_REFERENCE_LENGTH

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.mark.django_db
def test_schema_is_served_and_matches_the_code(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    served = json.loads(response.content)
    assert served == json.loads(json.dumps(SCHEMA))
    operation = served["paths"]["/api/station/redeem"]["post"]
    assert set(operation["responses"]) == {
        "200",
        "400",
        "401",
        "403",
        "404",
        "405",
        "409",
        "422",
        "429",
    }
    props = operation["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert props["code"]["maxLength"] == MAX_CODE_LENGTH
    assert props["reference"]["maxLength"] == MAX_REFERENCE_LENGTH
    errors_409 = operation["responses"]["409"]["content"]["application/json"]["schema"]
    assert set(errors_409["properties"]["error"]["enum"]) == {
        "already_redeemed",
        "voucher_void",
        "voucher_expired",
        "request_in_progress",
    }
    from django.urls import resolve

    assert resolve("/api/station/redeem").func.__name__ == "redeem"


@pytest.fixture
def station_api_schema(db):
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from opsportal.wsgi import application

    # Like Django's test client: keep the test's connection (and its transaction) open.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/schema/", application)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def issued_codes(voucher_factory, station_with_token):
    return [v.code for v in voucher_factory(count=5)]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.django_db
def test_station_api_conforms_to_its_schema(
    station_api_schema, station_with_token, issued_codes, mode
):
    _, token = station_with_token
    auth = {"Authorization": f"Bearer {token}"}
    operation = station_api_schema["/api/station/redeem"]["POST"]
    codes = iter(issued_codes * 20)
    calls = iter(range(10_000))

    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=60,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        n = next(calls)
        if mode.is_positive and isinstance(case.body, dict):
            if n % 2:  # real vouchers too (200, 409), not only unknown codes (404)
                case.body["code"] = next(codes)
            if n % 3:  # mostly fresh keys; the rest repeat generated ones (replays, 422)
                case.headers["Idempotency-Key"] = f"k{n}"
        case.call_and_validate(headers=auth, checks=CHECKS)

    check()
