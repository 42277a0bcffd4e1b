"""The integrations status page lives in the admin: tiles, "Probe now", recent history."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from audit.admin import HistoryAdmin
from integrations.models import ProbeResult
from integrations.probes import registered_probes
from integrations.services import probes_run_by
from integrations.status import probe_history, status_get

HISTORY_ROWS = 50


@admin.register(ProbeResult)
class ProbeResultAdmin(HistoryAdmin):
    list_display = ["checked_at", "key", "state", "reason", "latency_ms", "detail", "forced"]

    def get_urls(self):
        urls = [
            path(
                "probe-now/",
                self.admin_site.admin_view(self.probe_now_view),
                name="integrations_probe_now",
            ),
        ]
        return urls + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        keys = [p.key for p in registered_probes()]
        key = request.GET.get("key")
        key = key if key in keys else None
        context = {
            **self.admin_site.each_context(request),
            "title": "Integrations status",
            "opts": self.model._meta,
            "status": status_get(),
            "history": probe_history(key=key, limit=HISTORY_ROWS),
            "history_key": key,
            "keys": keys,
        }
        return TemplateResponse(request, "integrations/status.html", context)

    def probe_now_view(self, request):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        payload = probes_run_by(actor=request.user)  # refuses those who may not (403)
        level = messages.SUCCESS if payload["overall"] == "green" else messages.WARNING
        messages.add_message(
            request, level, f"Probed every integration: overall {payload['overall']}."
        )
        target = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(
            target, {request.get_host()}, require_https=request.is_secure()
        ):
            target = reverse("admin:integrations_proberesult_changelist")
        return HttpResponseRedirect(target)
