"""Staff API for campaigns (docs/contracts.md): start, stop, status, failed-targets CSV.

Start and stop refuse callers without `campaigns.control_campaign` in the services
themselves, the export in `campaigns.exports` (which audits it); the status read checks
its view permission here. Refusals of the
services (`CampaignError`: 404 not_found, 409 invalid_state / integration_unhealthy)
are answered by the handler opsportal/api.py registers.
"""

from typing import Literal

from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from ninja import Field, Router, Schema

from campaigns import selectors, services
from campaigns.exports import targets_export
from staff.api_errors import errors

router = Router(tags=["campaigns"])

VIEW_PERMISSION = "campaigns.view_campaign"


class QuietHours(Schema):
    start: str = Field(examples=["21:00"])
    end: str = Field(examples=["07:00"])
    tz: str = Field(examples=["Africa/Kigali"])


class CampaignStatus(Schema):
    id: int
    name: str
    state: Literal["draft", "running", "paused", "completed"]
    queue_length: int
    counts: dict[str, int] = Field(description="targets per status: pending, sent, failed, invalid")
    last_progress_at: str | None
    throttle_per_minute: int
    quiet_hours: QuietHours | None
    next_send_at: str | None


def _require(request, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


@router.post(
    "/{int:campaign_id}/start",
    response={200: CampaignStatus, **errors(404, 409)},
    url_name="campaign-start",
)
def start(request, campaign_id: int):
    """draft/paused → running; 409 `integration_unhealthy` while the WhatsApp EF probe is
    red, 409 `invalid_state` for a completed campaign."""
    services.campaign_start(campaign_id=campaign_id, actor=request.user)
    return selectors.campaign_status(campaign_id=campaign_id)


@router.post(
    "/{int:campaign_id}/stop",
    response={200: CampaignStatus, **errors(404)},
    url_name="campaign-stop",
)
def stop(request, campaign_id: int):
    """running → paused; stopping a campaign that is not running changes nothing."""
    services.campaign_stop(campaign_id=campaign_id, actor=request.user)
    return selectors.campaign_status(campaign_id=campaign_id)


@router.get(
    "/{int:campaign_id}/status",
    response={200: CampaignStatus, **errors(404)},
    url_name="campaign-status",
)
def status(request, campaign_id: int):
    _require(request, VIEW_PERMISSION)
    return selectors.campaign_status(campaign_id=campaign_id)


CSV_RESPONSE = {
    "responses": {
        "200": {
            "description": "Failed and invalid targets, streamed (constant memory at any size).",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    }
}


@router.get(
    "/{int:campaign_id}/failed-targets.csv",
    response=errors(404),
    url_name="campaign-export",
    openapi_extra=CSV_RESPONSE,
)
def failed_targets(request, campaign_id: int):
    lines = targets_export(campaign_id=campaign_id, actor=request.user)  # 403, 404, audited
    response = StreamingHttpResponse(lines, content_type="text/csv")
    response["Content-Disposition"] = (
        f'attachment; filename="campaign-{campaign_id}-failed-targets.csv"'
    )
    return response
