"""Staff reads."""

from django.contrib.sessions.models import Session
from django.utils import timezone

from staff.models import ApiToken


def staff_access_counts() -> dict:
    """What `staff_sessions_invalidate` would end now (for dry runs): live sessions and
    active staff API tokens."""
    return {
        "sessions": Session.objects.filter(expire_date__gt=timezone.now()).count(),
        "api_tokens": ApiToken.objects.filter(revoked_at__isnull=True).count(),
    }
