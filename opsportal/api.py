"""The staff JSON API: one django-ninja API, each app's router under `api/<app>/`.

Wiring only: the routers live in `<app>/api.py`, authentication in `staff/auth.py`
(staff token or session + CSRF), the error convention in `staff/api_errors.py`.
Served at `/api/…` next to the station API (`vouchers/`, its own hand-written schema at
`/api/schema/` and a fast path this API never touches); this one's OpenAPI document is
`/api/staff/schema/` and its docs page `/api/staff/docs`, both for staff only.
"""

from functools import wraps

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError

from campaigns.api import router as campaigns_router
from campaigns.errors import CampaignError
from incidents.api import router as incidents_router
from integrations.api import router as integrations_router
from staff import api_errors
from staff.api import router as staff_router
from staff.auth import STAFF_AUTH, staff_user


def _staff_only(view):
    """The schema and docs pages: for signed-in staff (either way), like the API itself."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        try:
            user = staff_user(request)
        except AuthenticationError:
            user = None
        if user is None:
            return api_errors.error_response(401)
        if not user.is_staff:
            return api_errors.error_response(403)
        return view(request, *args, **kwargs)

    return wrapper


api = NinjaAPI(
    title="OpsPortal staff API",
    version="1",
    description=(
        "For staff: a session (unsafe methods need the CSRF token) or "
        "`Authorization: Bearer opsp_…` (a staff API token, `manage.py create_api_token`). "
        'Every error is `{"error": code, "detail"?: text}`.'
    ),
    urls_namespace="staff-api",
    auth=STAFF_AUTH,
    openapi_url="/staff/schema/",
    docs_url="/staff/docs",
    docs_decorator=_staff_only,
)
api_errors.install(api)
api.add_exception_handler(
    CampaignError,
    lambda request, exc: api_errors.error_response(exc.status, exc.code, exc.detail),
)
api.add_router("/", staff_router)
api.add_router("/integrations/", integrations_router)
api.add_router("/campaigns/", campaigns_router)
api.add_router("/incidents/", incidents_router)
