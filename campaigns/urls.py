from django.urls import path

from campaigns import views

app_name = "campaigns"

urlpatterns = [
    path("<int:campaign_id>/start", views.campaign_start, name="start"),
    path("<int:campaign_id>/stop", views.campaign_stop, name="stop"),
    path("<int:campaign_id>/status", views.campaign_status, name="status"),
    path("<int:campaign_id>/failed-targets.csv", views.targets_export, name="export"),
]
