"""Incident services: writes live here, one module per topic."""

from incidents.services.approvals import approval_decide, approval_refusal, approval_request
from incidents.services.incidents import (
    Impacted,
    incident_acknowledge,
    incident_impacted_add,
    incident_open,
    incident_status_set,
    incident_step_complete,
)
from incidents.services.postmortem import incident_postmortem_generate, postmortem_markdown
from incidents.services.runs import step_rerun, step_run_execute, step_run_request
from incidents.services.timeline import incident_note_add, timeline_append

__all__ = [
    "Impacted",
    "approval_decide",
    "approval_refusal",
    "approval_request",
    "incident_acknowledge",
    "incident_impacted_add",
    "incident_note_add",
    "incident_open",
    "incident_postmortem_generate",
    "incident_status_set",
    "incident_step_complete",
    "postmortem_markdown",
    "step_rerun",
    "step_run_execute",
    "step_run_request",
    "timeline_append",
]
