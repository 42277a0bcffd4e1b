"""PagerDuty's V3 webhook endpoint, `POST /api/webhooks/pagerduty`.

Not a staff endpoint: PagerDuty signs the body, it holds no session or CSRF token and no
staff API token. It is routed before the staff API (`opsportal/urls.py`), so the staff
API's authentication never sees it; the answer is JSON like every answer under /api/.
"""

from django.http import HttpResponseNotAllowed, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from incidents.services.webhook import pagerduty_webhook_receive, webhook_refusal_record

MAX_BODY = 256 * 1024  # PagerDuty's events are a few kilobytes


@csrf_exempt
def pagerduty_webhook(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    ip = request.META.get("REMOTE_ADDR", "")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = MAX_BODY + 1
    if length > MAX_BODY:
        webhook_refusal_record(reason="too_large", ip=ip, detail=f"{length} bytes")
        return JsonResponse({"error": "payload_too_large"}, status=413)
    answer = pagerduty_webhook_receive(
        body=request.body, signature=request.headers.get("X-PagerDuty-Signature"), ip=ip
    )
    return JsonResponse(answer.body, status=answer.status)
