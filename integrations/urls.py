"""Admin pages of integrations that no ModelAdmin serves (mounted at admin/integrations/)."""

from django.contrib import admin
from django.urls import path

from integrations import views

urlpatterns = [
    path(
        "voucher-preview/",
        admin.site.admin_view(views.voucher_preview_view),
        name="integrations-voucher-preview",
    ),
]
