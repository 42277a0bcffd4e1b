"""Staff background work (django-q2): the every-minute tick and Slack announcements.
Tasks take ids; the rules live in the services they call."""

import logging

from django.conf import settings
from django.urls import reverse

from integrations.clients.slack import SlackClient
from integrations.errors import IntegrationError
from staff.grants import role_requests_expire
from staff.models import RoleRequest
from staff.security import login_failures_flush

logger = logging.getLogger(__name__)


def staff_tick() -> dict:
    """Closed failed-login windows become one audit entry each; stale role requests expire."""
    return {
        "login_windows": login_failures_flush(),
        "role_requests_expired": role_requests_expire(),
    }


def role_request_text(request: RoleRequest, event: str) -> str:
    url = settings.PORTAL_BASE_URL.rstrip("/") + reverse(
        "admin:staff_rolerequest_decide", args=[request.pk]
    )
    if event == "requested":
        return (
            f":key: {request.requested_by_name} asks to give *{request.username}* the "
            f"{request.role} role (request #{request.pk}). Another admin approves or denies "
            f"it before {request.expires_at:%Y-%m-%d %H:%M} UTC: {url}"
        )
    if event == "granted":
        return (
            f":white_check_mark: *{request.username}* is now {request.role}: requested by "
            f"{request.requested_by_name}, approved by {request.decided_by_name} "
            f"(request #{request.pk})."
        )
    return (
        f":no_entry: {request.decided_by_name} denied giving *{request.username}* the "
        f"{request.role} role (request #{request.pk}): {request.comment}"
    )


def role_request_announce(request_id: int, event: str) -> bool:
    """Tell #ops (SLACK_OPS_CHANNEL) about a role request; a Slack failure is logged, not
    retried: the request itself is on the Role requests page and in the audit log."""
    request = RoleRequest.objects.filter(pk=request_id).first()
    if request is None:
        return False
    try:
        SlackClient().post_message(text=role_request_text(request, event))
    except IntegrationError as exc:
        logger.warning("role request #%s (%s) not announced in Slack: %s", request_id, event, exc)
        return False
    return True
