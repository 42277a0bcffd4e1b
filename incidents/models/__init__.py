from incidents.models.incident import (
    OPEN_STATUSES,
    ImpactedObject,
    Incident,
    IncidentNote,
    IncidentStep,
    TimelineEntry,
)
from incidents.models.paging import (
    IncidentLink,
    IncidentPage,
    PagerDutyWebhookEvent,
    WebhookRefusal,
)
from incidents.models.runs import Approval, StepRun

__all__ = [
    "OPEN_STATUSES",
    "Approval",
    "ImpactedObject",
    "Incident",
    "IncidentLink",
    "IncidentNote",
    "IncidentPage",
    "IncidentStep",
    "PagerDutyWebhookEvent",
    "StepRun",
    "TimelineEntry",
    "WebhookRefusal",
]
