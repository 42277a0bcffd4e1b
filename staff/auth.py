"""How a staff member authenticates to the staff JSON API (django-ninja auth callables).

Two ways, tried in this order:

- `Authorization: Bearer opsp_…` — a staff API token. A script holds no session cookie
  anyone could ride on, so CSRF does not apply; a token that is unknown, revoked or whose
  user is inactive is a 401 even if a session cookie comes along.
- the Django session (the admin's login) — with Django's CSRF check for unsafe methods,
  made only once the session is known to be signed in, so an anonymous caller gets 401
  (who are you?) rather than a CSRF refusal.

Either way `request.user` is the staff member, so endpoints and services see one actor.
"""

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import AuthenticationError, HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from staff.services import api_token_authenticate
from staff.tokens import STAFF_TOKEN_PREFIX


class CsrfRefused(HttpError):
    """A signed-in session sent an unsafe request without a valid CSRF token."""

    def __init__(self, reason: str):
        super().__init__(403, reason)


class StaffToken(HttpBearer):
    openapi_scheme = "bearer"

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        if not token.startswith(STAFF_TOKEN_PREFIX):
            return None  # some other bearer (a station token): not ours, try the session
        user = api_token_authenticate(plaintext=token.strip(), ip=request.META.get("REMOTE_ADDR"))
        if user is None:
            raise AuthenticationError()
        request.user = user
        return user


class StaffSession(APIKeyCookie):
    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=False)  # checked in authenticate(), after we know who it is

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if check_csrf(request) is not None:
            raise CsrfRefused(CSRF_DETAIL)
        return user


CSRF_DETAIL = (
    "CSRF verification failed: a signed-in session must send the csrftoken cookie and the "
    "X-CSRFToken header with every unsafe request (scripts use a staff API token instead)."
)


STAFF_AUTH = [StaffToken(), StaffSession()]


def staff_user(request: HttpRequest) -> Any:
    """The staff member behind a request by the API's rules, or None (for pages outside the
    API's operations, such as its schema and docs)."""
    for auth in STAFF_AUTH:
        user = auth(request)
        if user:
            return user
    return None
