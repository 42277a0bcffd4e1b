from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from incidents.webhooks import pagerduty_webhook
from opsportal import views
from opsportal.api import api as staff_api
from opsportal.metrics.views import metrics
from vouchers import api as vouchers_api

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/station/", include("vouchers.api_urls")),
    path("api/schema/", vouchers_api.schema, name="api-schema"),
    # Signed by PagerDuty, not a staff endpoint: routed before the staff API and its auth.
    path("api/webhooks/pagerduty", pagerduty_webhook, name="pagerduty-webhook"),
    path("api/", staff_api.urls),
]

# The portal's own error pages (opsportal/errors.py); /api/… answers JSON.
handler403 = "opsportal.errors.forbidden"
handler404 = "opsportal.errors.not_found"
handler500 = "opsportal.errors.server_error"
