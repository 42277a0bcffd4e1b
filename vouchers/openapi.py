"""The OpenAPI 3 document of the station API, served at /api/schema/.

Hand-written to match docs/contracts.md; tests/vouchers/test_openapi.py checks
it against the code and runs schemathesis against it.
"""

import json
from functools import cache

from vouchers.redeem import MAX_CODE_LENGTH, MAX_REFERENCE_LENGTH


def _error(*codes: str, extra: dict | None = None) -> dict:
    properties = {"error": {"type": "string", "enum": list(codes)}, "detail": {"type": "string"}}
    properties.update(extra or {})
    return {
        "description": ", ".join(codes),
        "content": {
            "application/json": {
                "schema": {"type": "object", "required": ["error"], "properties": properties}
            }
        },
    }


_REDEEMED = {
    "type": "object",
    "required": ["status", "voucher"],
    "properties": {
        "status": {"type": "string", "enum": ["redeemed"]},
        "voucher": {
            "type": "object",
            "required": ["code", "amount", "currency", "redeemed_at", "station"],
            "properties": {
                "code": {"type": "string"},
                "amount": {"type": "string", "pattern": r"^\d+\.\d{2}$"},
                "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                "redeemed_at": {"type": "string", "format": "date-time"},
                "station": {"type": "string"},
            },
        },
    },
}

_REPLAYED = {"schema": {"type": "string", "enum": ["true"]}}

SCHEMA = {
    "openapi": "3.0.3",
    "info": {"title": "OpsPortal station API", "version": "1"},
    "components": {
        "securitySchemes": {"stationToken": {"type": "http", "scheme": "bearer"}},
    },
    "security": [{"stationToken": []}],
    "paths": {
        "/api/station/redeem": {
            "post": {
                "operationId": "redeem",
                "summary": "Redeem a voucher at the calling station",
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": True,
                        "schema": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 255,
                            "pattern": r"^[\x21-\x7e]{1,255}$",
                        },
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["code"],
                                "properties": {
                                    "code": {
                                        "type": "string",
                                        "minLength": 1,
                                        "maxLength": MAX_CODE_LENGTH,
                                        "pattern": r"^[\x21-\x7e][\x20-\x7e]*$",
                                    },
                                    "reference": {
                                        "type": "string",
                                        "maxLength": MAX_REFERENCE_LENGTH,
                                        "pattern": r"^[\x20-\x7e]*$",
                                    },
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "redeemed now, or the replay of a stored response",
                        "headers": {"Idempotent-Replayed": _REPLAYED},
                        "content": {"application/json": {"schema": _REDEEMED}},
                    },
                    "400": _error("invalid_request"),
                    "401": _error("unauthorized"),
                    "403": _error("out_of_scope"),
                    "404": _error("not_found"),
                    "405": _error("invalid_request"),
                    "409": _error(
                        "already_redeemed",
                        "voucher_void",
                        "voucher_expired",
                        "request_in_progress",
                        extra={
                            "redeemed_at": {"type": "string", "format": "date-time"},
                            "station": {"type": "string"},
                        },
                    ),
                    "422": _error("idempotency_key_reused"),
                    "429": {
                        **_error("rate_limited"),
                        "headers": {
                            "Retry-After": {"required": True, "schema": {"type": "integer"}}
                        },
                    },
                },
            }
        }
    },
}


@cache
def schema_json() -> bytes:
    return json.dumps(SCHEMA, indent=2).encode()
