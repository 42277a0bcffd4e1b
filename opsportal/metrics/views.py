"""GET /metrics for Prometheus (see opsportal/metrics/__init__.py and access.py)."""

from django.http import HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4 as CONTENT_TYPE

from opsportal.metrics import exposition
from opsportal.metrics.access import metrics_access


@require_GET
def metrics(request):
    status = metrics_access(request.META)
    if status != 200:
        return HttpResponse(status=status)
    return HttpResponse(exposition(with_state=True), content_type=CONTENT_TYPE)
