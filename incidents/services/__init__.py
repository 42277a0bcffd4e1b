"""Incident services: writes live here, one module per topic, built on incidents.engine.

The JSON API and the admin call these names; approvals are the engine's rules, re-exported
so every entry point calls the same function.
"""

from incidents.engine.approvals import approval_decide, approval_refusal, approval_request
from incidents.engine.execute import run_execute as step_run_execute
from incidents.engine.timeline import timeline_append
from incidents.services.acknowledge import incident_acknowledge
from incidents.services.incidents import (
    Impacted,
    impacted_resolve,
    incident_impacted_add,
    incident_open,
    incident_status_set,
)
from incidents.services.links import incident_link, incident_merge
from incidents.services.performed import (
    Performed,
    incident_step_done_by_person,
    incident_steps_performed,
)
from incidents.services.postmortem import (
    incident_postmortem_generate,
    incident_postmortem_get,
    postmortem_markdown,
)
from incidents.services.roles import incident_commander_set
from incidents.services.runs import step_rerun, step_run_request
from incidents.services.steps import incident_step_complete, steps_pending_at_resolution
from incidents.services.timeline import incident_note_add

__all__ = [
    "Impacted",
    "Performed",
    "approval_decide",
    "approval_refusal",
    "approval_request",
    "impacted_resolve",
    "incident_acknowledge",
    "incident_commander_set",
    "incident_impacted_add",
    "incident_link",
    "incident_merge",
    "incident_note_add",
    "incident_open",
    "incident_postmortem_generate",
    "incident_postmortem_get",
    "incident_status_set",
    "incident_step_complete",
    "incident_step_done_by_person",
    "incident_steps_performed",
    "postmortem_markdown",
    "step_rerun",
    "steps_pending_at_resolution",
    "step_run_execute",
    "step_run_request",
    "timeline_append",
]
