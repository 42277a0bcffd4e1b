from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from opsportal import views
from vouchers import api as vouchers_api

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("healthz", views.healthz, name="healthz"),
    path("", include("integrations.urls")),
    path("admin/", admin.site.urls),
    path("api/me", views.api_me, name="api-me"),
    path("api/station/", include("vouchers.api_urls")),
    path("api/schema/", vouchers_api.schema, name="api-schema"),
    path("api/campaigns/", include("campaigns.urls")),
    path("api/incidents/", include("incidents.api_urls")),
]
