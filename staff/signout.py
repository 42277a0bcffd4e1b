"""Why was I signed out? When every session is ended at once (a key rotation, the
"invalidate sessions" step), the hashes of the ended sessions' keys are kept with the
reason. The next request from such a browser (its session cookie names a session that is
gone) gets a short-lived signed cookie naming that record; the login page reads it and says
"You were signed out because … at HH:MM". Nothing is shown to anyone else, and nothing but
a record id travels in the cookie (signed, so it cannot be forged into another one)."""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.utils import timezone

from staff.models import SessionEnd

SIGNED_OUT_COOKIE = "opsportal_signed_out"
SIGNED_OUT_SALT = "staff.signout"
SIGNED_OUT_MAX_AGE = 3600  # long enough to read the login page after the sign-out


def _hash(session_key: str) -> str:
    return hashlib.sha256(session_key.encode()).hexdigest()


def session_ends_record(*, session_keys: list[str], why: str) -> None:
    """Remember these (now deleted) sessions' end; forget ends older than any session."""
    now = timezone.now()
    SessionEnd.objects.filter(at__lt=now - timedelta(seconds=settings.SESSION_COOKIE_AGE)).delete()
    SessionEnd.objects.bulk_create(
        [SessionEnd(key_hash=_hash(k), why=why[:200], at=now) for k in session_keys],
        ignore_conflicts=True,
        batch_size=1000,
    )


def signed_out_notice(request) -> SessionEnd | None:
    """The sign-out this browser was told about, for the login page (None: nothing to say)."""
    try:
        pk = request.get_signed_cookie(
            SIGNED_OUT_COOKIE, salt=SIGNED_OUT_SALT, max_age=SIGNED_OUT_MAX_AGE
        )
    except (KeyError, signing.BadSignature):
        return None
    return SessionEnd.objects.filter(pk=pk).first() if pk.isdigit() else None


def signed_out_forget(response) -> None:
    response.delete_cookie(SIGNED_OUT_COOKIE, samesite="Lax")


class SignedOutMiddleware:
    """After SessionMiddleware and AuthenticationMiddleware: a request whose session cookie
    named a session that no longer exists is looked up (one query, once: the session cookie
    is dropped in the same response) among the recorded ends."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        stale = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        session = getattr(request, "session", None)
        # session_key is None once the session was loaded and its row was missing.
        if not stale or session is None or session.session_key is not None:
            return response
        end = SessionEnd.objects.filter(key_hash=_hash(stale)).only("pk").first()
        if end is not None:
            response.set_signed_cookie(
                SIGNED_OUT_COOKIE,
                str(end.pk),
                salt=SIGNED_OUT_SALT,
                max_age=SIGNED_OUT_MAX_AGE,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response
