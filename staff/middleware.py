"""Error answers under /api/ are JSON, whoever makes them.

The staff API's operations answer their own errors (`staff.api_errors`); this catches
the answers made before or around them — no such path (404), a method the path does
not take (405, `Allow` kept), Django's own refusals (400, 413) and a crash (500) — and
gives them the same `{"error": code, "detail"?}` body instead of an HTML page.
"""

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
