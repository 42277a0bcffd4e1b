"""Reads for the incident page, the API and the dashboard; the page's paging, people and
links reads are in `incidents.selectors.paging` (re-exported here)."""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Avg, Count, F
from django.db.models.functions import TruncWeek
from django.shortcuts import get_object_or_404
from django.utils import timezone

from incidents.engine.clock import GateClock, gate_state
from incidents.engine.params import ParamsForm, params_initial, params_notes
from incidents.engine.registry import Action, action_get, incident_notices
from incidents.engine.runbook import PHASE_LABELS
from incidents.models import (
    Approval,
    Incident,
    IncidentStep,
    StepRun,
)
from incidents.selectors.paging import (  # noqa: F401 (re-exported)
    commander_candidates,
    incident_paging_data,
    oncall_now,
    page_failing,
)

SAFE_STEP_PERMISSION = "incidents.run_safe_step"
APPROVE_PERMISSION = "incidents.approve_risky_step"


@dataclass
class StepView:
    step: IncidentStep
    action: Action | None = None
    form: ParamsForm | None = None  # the action's parameters, prefilled
    runs: list[StepRun] = field(default_factory=list)
    pending_approval: Approval | None = None
    can_run: bool = False
    can_approve: bool = False
    gate: tuple[str, GateClock] | None = None  # a gate's state and clock (_gate_state.html)

    @property
    def last_run(self) -> StepRun | None:
        return self.runs[0] if self.runs else None

    @property
    def needs_confirm(self) -> bool:
        """The latest real run was lost mid-run: running again needs "I checked"."""
        real = next((run for run in self.runs if not run.dry_run), None)
        if real is None:  # only dry runs on the page: the step's status says
            return self.step.status == IncidentStep.Status.OUTCOME_UNKNOWN
        return real.status == StepRun.Status.OUTCOME_UNKNOWN

    @property
    def overdue(self) -> bool:
        return bool(
            self.step.due_at and self.step.due_at <= timezone.now() and not self.step.is_finished
        )


def step_initial_params(*, step: IncidentStep) -> dict:
    """The parameters a run starts from: the runbook's defaults and the incident's objects."""
    return params_initial(
        action_get(step.action_key).params,
        defaults=step.default_params,
        impacted=step.incident.impacted.all(),
    )


def incident_phases(*, incident: Incident, user: Any, runs_per_step: int = 3) -> list[dict]:
    steps = list(incident.steps.all())
    runs: dict[int, list[StepRun]] = {}
    for run in incident.runs.select_related("approval").order_by("-id")[:200]:
        bucket = runs.setdefault(run.step_id, [])
        if len(bucket) < runs_per_step:
            bucket.append(run)
    pending = {
        a.step_id: a
        for a in Approval.objects.filter(
            incident=incident, status=Approval.Status.PENDING
        ).order_by("id")
    }
    can_approve = user.has_perm(APPROVE_PERMISSION)
    phases: dict[str, dict] = {}
    for step in steps:
        view = StepView(step=step, runs=runs.get(step.pk, []))
        if step.kind == IncidentStep.Kind.ACTION:
            view.action = action_get(step.action_key)
            view.form = ParamsForm(
                view.action.params,
                initial=params_initial(
                    view.action.params, defaults=step.default_params, impacted=incident.impacted
                ),
            )
            for name, note in params_notes(view.action.params, view.form.initial).items():
                view.form.fields[name].help_text = note
            # Work done elsewhere (the rotation saga) is not run a second time.
            view.can_run = user.has_perm(view.action.permission) and not step.done_elsewhere
            approval = pending.get(step.pk)
            if approval and approval.expires_at > timezone.now():
                view.pending_approval = approval
                view.can_approve = can_approve and approval.requested_by_id != user.pk
        else:
            view.can_run = user.has_perm(SAFE_STEP_PERMISSION)
            if step.kind == IncidentStep.Kind.GATE:
                view.gate = gate_state(step)
        phase = phases.setdefault(
            step.phase, {"key": step.phase, "label": PHASE_LABELS[step.phase], "steps": []}
        )
        phase["steps"].append(view)
    return list(phases.values())


def approvals_panel(*, phases: list[dict], user: Any) -> list[dict]:
    """The pending approvals of the page's steps, each with what approving will do in plain
    sentences (the action's own words, never its raw parameters) and whether `user` may
    decide it — and if not, why."""
    panel = []
    for phase in phases:
        for view in phase["steps"]:
            approval = view.pending_approval
            if approval is None:
                continue
            if view.can_approve:
                why_not = ""
            elif approval.requested_by_id == user.pk:
                why_not = "You asked for this: another admin must decide it."
            else:
                why_not = "Only an admin other than the requester can decide it."
            panel.append(
                {
                    "approval": approval,
                    "step": view.step,
                    "action": view.action,
                    "consequences": view.action.what_it_does(approval.params),
                    "can_approve": view.can_approve,
                    "why_not": why_not,
                }
            )
    return panel


def incident_has_active_runs(*, incident: Incident) -> bool:
    return incident.runs.filter(status__in=StepRun.UNFINISHED).exists()


def incidents_metrics(*, days: int = 30) -> dict:
    """Mean time to acknowledge and to resolve over recent incidents (dashboard)."""
    since = timezone.now() - timedelta(days=days)
    recent = Incident.objects.filter(opened_at__gte=since)
    agg = recent.aggregate(
        mtta=Avg(F("acknowledged_at") - F("opened_at")),
        mttr=Avg(F("resolved_at") - F("detected_at")),
    )
    return {
        "days": days,
        "open": Incident.objects.open().count(),
        "mtta": agg["mtta"],
        "mttr": agg["mttr"],
    }


def incident_open_for_runbook(*, runbook_key: str) -> int | None:
    """The id of the oldest open incident of a runbook (one indexed query), or None."""
    return (
        Incident.objects.open()
        .filter(runbook_key=runbook_key)
        .order_by("id")
        .values_list("pk", flat=True)
        .first()
    )


def incident_last_resolved_at(*, runbook_key: str, subject: str):
    """When the latest resolved (or closed) incident of this runbook and subject was resolved."""
    return (
        Incident.objects.filter(
            runbook_key=runbook_key, dedup_key=subject, resolved_at__isnull=False
        )
        .order_by("-resolved_at")
        .values_list("resolved_at", flat=True)
        .first()
    )


# --- Front page (opsportal/frontpage.py): a bounded number of queries whatever the data size ---


def incidents_open_overview(*, limit: int = 8) -> dict:
    """Open incidents, newest first, each with the next step to do, its soonest due timer and
    the steps already overdue. Two queries: the incidents, then their unfinished steps."""
    now = timezone.now()
    incidents = list(Incident.objects.open().order_by("-id")[: limit + 1])
    more, incidents = len(incidents) > limit, incidents[:limit]
    unfinished: dict[int, list[IncidentStep]] = {}
    steps = (
        IncidentStep.objects.filter(incident__in=[i.pk for i in incidents])
        .exclude(status__in=IncidentStep.FINISHED)
        .select_related("incident")  # who may do which step reads the incident's status
        .order_by("incident_id", "position")
    )
    for step in steps:
        unfinished.setdefault(step.incident_id, []).append(step)
    rows = []
    for incident in incidents:
        todo = unfinished.get(incident.pk, [])
        timed = sorted((s for s in todo if s.due_at), key=lambda s: s.due_at)
        rows.append(
            {
                "incident": incident,
                "next_step": todo[0] if todo else None,
                "todo": todo,  # the front page picks the next one its reader can do
                "next_due": timed[0] if timed else None,
                "overdue": [s for s in timed if s.due_at <= now],
                "awaiting_approval": sum(
                    1 for s in todo if s.status == IncidentStep.Status.AWAITING_APPROVAL
                ),
            }
        )
    return {"rows": rows, "more": more, "now": now}


def incidents_mtt_weekly(*, days: int = 30) -> list[dict]:
    """MTTA (opened → acknowledged) and MTTR (detected → resolved), as in `incidents_metrics`,
    per week of opening over the last `days`: one grouped query."""
    since = timezone.now() - timedelta(days=days)
    rows = (
        Incident.objects.filter(opened_at__gte=since)
        .annotate(week=TruncWeek("opened_at"))
        .values("week")
        .annotate(
            n=Count("id"),
            mtta=Avg(F("acknowledged_at") - F("opened_at")),
            mttr=Avg(F("resolved_at") - F("detected_at")),
        )
        .order_by("week")
    )
    return list(rows)


def approvals_pending(*, limit: int = 10) -> list[Approval]:
    """Risky steps waiting for a second person, soonest expiry first (one query)."""
    return list(
        Approval.objects.filter(status=Approval.Status.PENDING, expires_at__gt=timezone.now())
        .select_related("incident", "step")
        .order_by("expires_at", "id")[:limit]
    )


def incident_page_data(*, pk: int, user: Any) -> dict:
    """Everything the incident page shows, for a user who may view incidents."""
    if not user.has_perm("incidents.view_incident"):
        raise PermissionDenied
    incident = get_object_or_404(Incident, pk=pk)
    # Before the steps are read: a run finishing in between then still refreshes the page,
    # instead of leaving it showing "running" with no refresh coming (seen in tests/e2e).
    live = incident_has_active_runs(incident=incident)
    phases = incident_phases(incident=incident, user=user)
    return {
        "incident": incident,
        "phases": phases,
        "approvals": approvals_panel(phases=phases, user=user),
        "notices": incident_notices(incident),
        "timeline": incident.timeline.order_by("id")[:500],
        "notes": incident.notes.order_by("id")[:200],
        "impacted": incident.impacted.all(),
        "live": live,
        "statuses": Incident.Status.values,
        "perms_": {
            "note": user.has_perm("incidents.add_incidentnote"),
            "change": user.has_perm("incidents.change_incident"),
            "ack": user.has_perm("incidents.add_incident"),
            "export": user.has_perm("incidents.export_postmortem")
            or user.has_perm("incidents.change_incident"),
        },
    }
