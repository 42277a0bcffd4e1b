from django.http import JsonResponse

from staff.services import api_token_authenticate
from staff.tokens import STAFF_TOKEN_PREFIX

# Paths under /api/ that authenticate on their own (station tokens) or are public.
PUBLIC_API_PREFIXES = ("/api/station/", "/api/schema")


def _unauthorized() -> JsonResponse:
    response = JsonResponse({"error": "unauthorized"}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="opsportal"'
    return response


class ApiTokenMiddleware:
    """Staff JSON API: `Authorization: Bearer opsp_…` acts as that user; anonymous → 401.

    A token-authenticated request carries no session cookie to forge, so CSRF
    does not apply to it; session requests keep full CSRF protection.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        is_staff_api = path.startswith("/api/") and not path.startswith(PUBLIC_API_PREFIXES)
        auth = request.headers.get("Authorization", "")
        if is_staff_api and auth.startswith(f"Bearer {STAFF_TOKEN_PREFIX}"):
            user = api_token_authenticate(
                plaintext=auth.removeprefix("Bearer ").strip(), ip=request.META.get("REMOTE_ADDR")
            )
            if user is None:
                return _unauthorized()
            request.user = user
            request._dont_enforce_csrf_checks = True
        elif is_staff_api and not request.user.is_authenticated:
            return _unauthorized()
        return self.get_response(request)
