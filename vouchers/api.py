"""Station API views: thin wrappers around vouchers.redeem."""

import time

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from vouchers.metrics import redeem_outcome_counted
from vouchers.openapi import schema_json
from vouchers.redeem import MAX_BODY_BYTES, redeem_request_process

JSON = "application/json"


def _oversize(request) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES
    except ValueError:
        return True


@csrf_exempt  # station token auth, no cookies
def redeem(request):
    started = time.perf_counter()
    if request.method != "POST":
        response = HttpResponse(
            b'{"error": "invalid_request", "detail": "use POST"}', status=405, content_type=JSON
        )
        response["Allow"] = "POST"
        response._has_been_logged = True  # a client's mistake, not the server's
        return response
    # Read at most one byte past the limit: an oversize body is refused, never buffered.
    body = b"x" * (MAX_BODY_BYTES + 1) if _oversize(request) else request.read(MAX_BODY_BYTES + 1)
    result = redeem_request_process(
        authorization=request.META.get("HTTP_AUTHORIZATION", ""),
        idempotency_key=request.META.get("HTTP_IDEMPOTENCY_KEY"),
        content_type=(request.content_type or "").lower(),
        body=body,
        request_id=getattr(request, "request_id", ""),
        started=started,
    )
    redeem_outcome_counted(result.outcome)
    response = HttpResponse(result.body, status=result.status, content_type=JSON)
    for name, value in result.headers.items():
        response[name] = value
    # Refusals (404, 409, …) are routine outcomes, each already in the redeem attempt
    # log: no WARNING line from django.request for every one of them.
    response._has_been_logged = True
    return response


def schema(request):
    return HttpResponse(schema_json(), content_type=JSON)
