"""The staff JSON API's one error convention: `{"error": code, "detail"?: text}`.

`install(api)` maps every refusal raised inside an operation (authentication, CSRF,
permission, validation, not found, oversize body) to that body;
`staff.middleware.ApiErrorsMiddleware` does the same for answers made before any
operation runs (unknown path, wrong method) and for Django's own 400/413/500.
Endpoints declare the errors they can answer with `errors(...)`, so the schema
(`/api/staff/schema/`) lists them.
"""

from typing import Any

from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.exceptions import (
    ValidationError as DjangoValidationError,
)
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from staff.auth import CsrfRefused

CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "server_error",
}
WWW_AUTHENTICATE = 'Bearer realm="opsportal"'


class Error(Schema):
    error: str
    detail: str | None = None


def errors(*statuses: int) -> dict[int, type[Error]]:
    """`response={200: Thing, **errors(404, 409)}`: what an endpoint may answer besides
    its success. 400, 401 and 403 apply to every staff endpoint and are always listed."""
    return {status: Error for status in sorted({400, 401, 403, *statuses})}


def error_body(status: int, code: str = "", detail: str = "") -> dict[str, str]:
    body = {"error": code or CODES.get(status, "error")}
    if detail:
        body["detail"] = detail
    return body


def error_response(status: int, code: str = "", detail: str = "") -> HttpResponse:
    response = JsonResponse(error_body(status, code, detail), status=status)
    if status == 401:
        response["WWW-Authenticate"] = WWW_AUTHENTICATE
    # A refusal is a routine answer to the client, not a server event worth a log line each.
    response._has_been_logged = status < 500
    return response


def _validation_detail(exc: NinjaValidationError) -> str:
    parts = []
    for err in exc.errors:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "payload"))
        parts.append(f"{loc}: {err.get('msg', 'invalid')}" if loc else err.get("msg", "invalid"))
    return "; ".join(parts) or "invalid request"


def _handler(status: int, code: str = "", detail=lambda exc: str(exc)):
    def handle(request: HttpRequest, exc: Exception) -> HttpResponse:
        return error_response(status, code, detail(exc))

    return handle


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error_response(exc.status_code, detail=exc.message)


def install(api: NinjaAPI) -> None:
    """Register the convention's exception handlers on `api` (ninja's defaults answer
    `{"detail": …}` and 422 for validation, which is not our contract)."""
    handlers: list[tuple[type[Exception], Any]] = [
        (AuthenticationError, _handler(401, detail=lambda exc: "")),
        (CsrfRefused, _handler(403, "csrf_failed")),
        (HttpError, _http_error),
        (NinjaValidationError, _handler(400, detail=_validation_detail)),
        (DjangoValidationError, _handler(400, detail=lambda exc: " ".join(exc.messages))),
        (PermissionDenied, _handler(403)),
        (Http404, _handler(404)),
        (RequestDataTooBig, _handler(413, detail=lambda exc: "The request body is too large.")),
        (SuspiciousOperation, _handler(400, detail=lambda exc: "")),
    ]
    for exc_class, handler in handlers:
        api.add_exception_handler(exc_class, handler)
