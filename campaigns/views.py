"""Campaign control JSON API (contracts.md) and the staff pages' small endpoints.

Authentication is the middleware's job (401 before we run); these check the
permission, call one service or selector, and render.
"""

from django.http import JsonResponse, StreamingHttpResponse
from django.views.decorators.http import require_GET, require_POST

from campaigns import selectors, services
from campaigns.errors import CampaignError

CONTROL_PERMISSION = "campaigns.control_campaign"
VIEW_PERMISSION = "campaigns.view_campaign"
EXPORT_PERMISSION = "campaigns.export_targets"


def _forbidden() -> JsonResponse:
    return JsonResponse({"error": "forbidden"}, status=403)


def _error(exc: CampaignError) -> JsonResponse:
    body = {"error": exc.code}
    if exc.detail:
        body["detail"] = exc.detail
    return JsonResponse(body, status=exc.status)


def _control(request, campaign_id: int, service) -> JsonResponse:
    if not request.user.has_perm(CONTROL_PERMISSION):
        return _forbidden()
    try:
        service(campaign_id=campaign_id, actor=request.user)
        return JsonResponse(selectors.campaign_status(campaign_id=campaign_id))
    except CampaignError as exc:
        return _error(exc)


@require_POST
def campaign_start(request, campaign_id: int):
    return _control(request, campaign_id, services.campaign_start)


@require_POST
def campaign_stop(request, campaign_id: int):
    return _control(request, campaign_id, services.campaign_stop)


@require_GET
def campaign_status(request, campaign_id: int):
    if not request.user.has_perm(VIEW_PERMISSION):
        return _forbidden()
    try:
        return JsonResponse(selectors.campaign_status(campaign_id=campaign_id))
    except CampaignError as exc:
        return _error(exc)


@require_GET
def targets_export(request, campaign_id: int):
    """Failed and invalid targets as a streamed CSV (constant memory at any size)."""
    if not request.user.has_perm(EXPORT_PERMISSION):
        return _forbidden()
    try:
        selectors.campaign_status(campaign_id=campaign_id)  # 404 for unknown ids
    except CampaignError as exc:
        return _error(exc)
    response = StreamingHttpResponse(
        selectors.targets_export_csv(campaign_id=campaign_id), content_type="text/csv"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="campaign-{campaign_id}-failed-targets.csv"'
    )
    return response
