"""Serve the station API ahead of the browser-facing middleware.

Stations authenticate with their own bearer token and use no cookie, session,
CSRF token, login lockout or flash message, so for them the session, CSRF, auth,
messages and axes middleware (and URL resolution) are pure cost: about 0.1 ms of
CPU per redemption, some 7 % of its whole cost on our 2-core machines
(`make bench`, tests/bench/test_redeem.py). Placed after SecurityMiddleware and
RequestIdMiddleware, whose headers every response still gets; the Host header is
still checked against ALLOWED_HOSTS, and the responses carry the Content-Length and
X-Frame-Options the skipped middleware would have added.
"""

from django.conf import settings

from vouchers import api

STATION_API_VIEWS = {"/api/station/redeem": api.redeem}


class StationApiMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = STATION_API_VIEWS.get(request.path_info)
        if view is None:
            return self.get_response(request)
        # Host validation (ALLOWED_HOSTS) happens on the first get_host(), which only the
        # skipped CommonMiddleware would call: an unknown Host is a 400, as everywhere else.
        request.get_host()
        response = view(request)
        # What the skipped CommonMiddleware and XFrameOptionsMiddleware would add: a length
        # (not a chunked body) and the same framing refusal as every other response.
        response.headers.setdefault("Content-Length", str(len(response.content)))
        response.headers.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS)
        return response
