"""Request latency by route: the first middleware, so it times the whole stack.

The label is the URL *pattern* Django resolved (`api/campaigns/<int:campaign_id>/start`),
never the raw path, and for the station API's fast path (resolved without the URL
resolver: vouchers/middleware.py) its fixed path. Methods outside the usual set and
statuses become classes, so no client can grow the label set.
"""

import time

from prometheus_client import Histogram

from vouchers.middleware import STATION_API_VIEWS

REQUEST_LATENCY = Histogram(
    "opsportal_http_request_duration_seconds",
    "Time to answer a request, by route pattern",
    ["method", "route", "status"],
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
FAST_PATH_ROUTES = {path: path.lstrip("/") for path in STATION_API_VIEWS}
_children: dict[tuple[str, str, str], object] = {}


def _child(method: str, route: str, status: int):
    key = (method if method in METHODS else "other", route, f"{status // 100}xx")
    child = _children.get(key)
    if child is None:
        child = _children[key] = REQUEST_LATENCY.labels(*key)
    return child


class RequestMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = match.route if match else FAST_PATH_ROUTES.get(request.path_info, "unmatched")
        _child(request.method, route, response.status_code).observe(time.perf_counter() - started)
        return response
