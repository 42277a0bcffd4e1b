from django.urls import path

from incidents import api

urlpatterns = [
    path("<int:pk>", api.incident_detail, name="api-incident"),
    path("<int:pk>/steps/<slug:step_key>/run", api.step_run, name="api-incident-step-run"),
    path("runs/<int:run_id>", api.run_detail, name="api-incident-run"),
    path("approvals/<int:approval_id>/decide", api.approval_decision, name="api-approval-decide"),
]
