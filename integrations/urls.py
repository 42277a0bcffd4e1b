from django.contrib import admin
from django.urls import path

from integrations import views

urlpatterns = [
    path("api/integrations/status", views.status_api, name="integrations-status-api"),
    path(
        "admin/integrations/voucher-preview/",
        admin.site.admin_view(views.voucher_preview_view),
        name="integrations-voucher-preview",
    ),
]
