"""Error answers under /api/ are JSON, whoever makes them; staff input that no view could
store (NUL bytes, lone surrogates) is refused with a clear 400.

The staff API's operations answer their own errors (`staff.api_errors`); this catches
the answers made before or around them — no such path (404), a method the path does
not take (405, `Allow` kept), Django's own refusals (400, 413) and a crash (500) — and
gives them the same `{"error": code, "detail"?}` body instead of an HTML page.
"""

import json
import re
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponseBadRequest
from django.utils.html import escape

from staff.api_errors import error_response

DETAILS = {
    404: "No such API path.",
    405: "Method not allowed here.",
    413: "The request body is too large.",
}


class ApiErrorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not request.path_info.startswith("/api/")
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        status = response.status_code
        detail = DETAILS.get(status, "")
        if status == 405 and response.has_header("Allow"):
            detail = f"Method not allowed here; use {response['Allow']}."
        json = error_response(status, detail=detail)
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if response.has_header(header):
                json[header] = response[header]
        return json


# NUL (PostgreSQL text cannot hold it: a 500 deep in a query) and lone surrogates (not
# encodable as UTF-8: a 500 when stored or rendered). Only JSON can carry a surrogate
# (`"\ud800"`); Django decodes form data with replacement characters.
BAD_CHARACTER = re.compile("[\x00\ud800-\udfff]")
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Not staff input: vendors' signed webhooks, with their own limits and refusal audit.
NOT_STAFF_PATHS = ("/api/webhooks/",)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _bad(text: str) -> str | None:
    match = BAD_CHARACTER.search(text)
    if match is None:
        return None
    return "a NUL character" if match.group() == "\x00" else "an unpaired surrogate character"


def _json_problem(value: Any, where: str) -> str | None:
    if isinstance(value, str):
        bad = _bad(value)
        return f"{where} contains {bad}" if bad else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _json_problem(str(key), f"the field name {key!r}") or _json_problem(
                item, f"the field {key!r}"
            )
            if found:
                return found
    if isinstance(value, list):
        for item in value:
            found = _json_problem(item, where)
            if found:
                return found
    return None


def _form_readable(request: HttpRequest) -> bool:
    """Whether reading the form here leaves it readable for the view. Django's own views read
    `request.POST` (parsed once, kept); the API reads the raw body, which a multipart parse
    would consume: there the body is read (and kept) first, if it is small enough to be."""
    if not request.path_info.startswith("/api/") or request.content_type != FORM_TYPES[1]:
        return True
    try:
        request.body  # noqa: B018  (kept on the request; POST is then parsed from it)
    except RequestDataTooBig:
        return False  # the API answers 413 itself
    return True


def staff_input_problem(request: HttpRequest) -> str | None:
    """What is wrong with this request's text (path, query, form fields, JSON body), or None."""
    bad = _bad(request.path_info)
    if bad:
        return f"The address contains {bad}."
    pairs = list(request.GET.lists())
    if request.method in UNSAFE_METHODS:
        if request.content_type in FORM_TYPES and _form_readable(request):
            pairs += list(request.POST.lists())
        elif request.content_type == "application/json" or request.content_type.endswith("+json"):
            try:
                found = _json_problem(json.loads(request.body or b"null"), "the body")
            except (ValueError, RequestDataTooBig):
                found = None  # the API answers malformed and oversized bodies itself
            if found:
                return found[0].upper() + found[1:] + "."
    for key, values in pairs:
        for text in [key, *values]:
            bad = _bad(text)
            if bad:
                return f"The field {key.replace(chr(0), '')!r} contains {bad}."
    return None


class StaffInputMiddleware:
    """Staff input with a NUL byte or a lone surrogate — notes, titles, step parameters,
    staff API bodies, admin forms, any query string — is refused here with a 400 that says
    why, before any view could fail on it with a 500. (The station API has its own rules
    and stops before this middleware: vouchers.middleware; vendors' webhooks have theirs.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(NOT_STAFF_PATHS):
            return self.get_response(request)
        problem = staff_input_problem(request)
        if problem is None:
            return self.get_response(request)
        detail = f"{problem} Remove it and send the request again."
        if request.path_info.startswith("/api/"):
            return error_response(400, "invalid_request", detail)
        page = (
            f"<!doctype html><title>Bad request</title><h1>Bad request</h1><p>{escape(detail)}</p>"
        )
        response = HttpResponseBadRequest(page)
        response._has_been_logged = True  # a refusal, not a server event
        return response
