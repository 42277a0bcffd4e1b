"""The Notifications page: recent send results with error codes, filterable, and the
failure rate over the last 5 and 15 minutes (the failures runbook's "Detect")."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from campaigns import selectors
from campaigns.models import Campaign, SendResult

PAGE = 100


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def notifications_view(request):
    if not request.user.has_perm("campaigns.view_campaign"):
        raise PermissionDenied
    campaign_id = _int(request.GET.get("campaign"))
    outcome = request.GET.get("outcome", "")
    outcome = outcome if outcome in SendResult.Outcome.values else ""
    error_code = (request.GET.get("error_code") or "").strip()[:64]
    before = _int(request.GET.get("before"))
    results = selectors.send_results_recent(
        campaign_id=campaign_id,
        outcome=outcome,
        error_code=error_code,
        before_id=before,
        limit=PAGE,
    )
    query = request.GET.copy()
    query.pop("before", None)
    if len(results) == PAGE:
        query["before"] = results[-1].pk
    context = {
        **admin.site.each_context(request),
        "title": "Notifications",
        "results": results,
        "failure_rate_5": selectors.send_failure_rate(minutes=5),
        "failure_rate_15": selectors.send_failure_rate(minutes=15),
        "campaigns": Campaign.objects.order_by("-id").values("pk", "name")[:200],
        "outcomes": SendResult.Outcome.values,
        "selected": {"campaign": campaign_id, "outcome": outcome, "error_code": error_code},
        "next_query": query.urlencode() if len(results) == PAGE else "",
    }
    return TemplateResponse(request, "campaigns/notifications.html", context)
