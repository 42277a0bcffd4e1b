"""The front page (the admin index): one glance answers "what is broken, and what do I do next".

Each section reads through the owning app's selectors, is shown only to people whose role may
see it, and is guarded: a piece an app does not have (yet) leaves its section out instead of
breaking the page. Every selector runs a fixed number of queries, so the page costs the same
with three incidents or three thousand (tests/opsportal/test_front_page.py holds it to that).
"""

import logging
from datetime import timedelta
from typing import Any

from django.db import DatabaseError
from django.urls import NoReverseMatch, reverse

logger = logging.getLogger(__name__)

CHART_WIDTH, CHART_HEIGHT, CHART_BAR = 300, 90, 14


def _guarded(name: str, build, *args) -> Any:
    try:
        return build(*args)
    except ImportError:  # the owning app has not grown this piece (yet)
        logger.info("front page: %s section unavailable", name)
    except DatabaseError:  # a section must never take the whole page down with it
        logger.exception("front page: %s section failed", name)
    return None


def _url(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _incidents(user) -> dict:
    from incidents.selectors import incidents_open_overview
    from incidents.services.step_actions import next_step_for

    overview = incidents_open_overview()
    for row in overview["rows"]:
        row["url"] = _url("admin:incidents_incident_work", row["incident"].pk)
        # The next step this reader can do, else the first one and why they cannot.
        row["next_step"], row["next_why"] = next_step_for(steps=row["todo"], user=user)
    overview["open_url"] = _url("admin:incidents_incident_open")
    overview["list_url"] = _url("admin:incidents_incident_changelist")
    return overview


def _hours(value: timedelta | None) -> float | None:
    return round(value.total_seconds() / 3600, 1) if value is not None else None


def _metrics() -> dict:
    from incidents.selectors import incidents_metrics, incidents_mtt_weekly

    totals = incidents_metrics(days=30)
    weeks = incidents_mtt_weekly(days=30)
    values = [h for w in weeks for h in (_hours(w["mtta"]), _hours(w["mttr"])) if h is not None]
    top = max(values, default=0) or 1
    slot = CHART_WIDTH / max(len(weeks), 1)
    bars = []
    for i, week in enumerate(weeks):
        for j, (kind, hours) in enumerate(
            (("mtta", _hours(week["mtta"])), ("mttr", _hours(week["mttr"])))
        ):
            height = round((hours or 0) / top * (CHART_HEIGHT - 12))
            bars.append(
                {
                    "kind": kind,
                    "hours": hours,
                    "x": round(i * slot + 6 + j * (CHART_BAR + 2)),
                    "y": CHART_HEIGHT - 12 - height,
                    "height": height,
                    "week": week["week"],
                }
            )
    labels = [
        {"x": round(i * slot + 6), "text": w["week"].strftime("%d %b")} for i, w in enumerate(weeks)
    ]
    return {
        "days": totals["days"],
        "mtta_hours": _hours(totals["mtta"]),
        "mttr_hours": _hours(totals["mttr"]),
        "incidents": sum(w["n"] for w in weeks),
        "bars": bars,
        "labels": labels,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "bar": CHART_BAR,
        "top_hours": round(top, 1),
    }


def _campaigns() -> dict:
    from campaigns.selectors import campaigns_active_progress

    progress = campaigns_active_progress()
    for row in progress["rows"]:
        row["url"] = _url("admin:campaigns_campaign_change", row["campaign"].pk)
    return progress


def _approvals(user) -> dict:
    from incidents.engine.registry import actions_all
    from incidents.selectors import approvals_pending

    actions = actions_all()
    rows = [
        {
            "approval": a,
            "mine": a.requested_by_id == user.pk,
            # The action by its name; the link lands on the incident's approval panel.
            "label": actions[a.action_key].label if a.action_key in actions else a.action_key,
            "url": _url("admin:incidents_incident_work", a.incident_id) + f"#approval-{a.pk}",
        }
        for a in approvals_pending()
    ]
    return {"rows": rows}


def _leaked_keys() -> list[dict]:
    from rotation.wording import rotations_key_still_active

    return rotations_key_still_active()


def frontpage_context(request) -> dict:
    """The front page's sections for this person; integration tiles come from
    `integrations.context_processors.degraded_mode` (`integrations_status`)."""
    user = request.user
    sections: dict[str, Any] = {}
    if user.has_perm("incidents.view_incident"):
        sections["incidents"] = _guarded("incidents", _incidents, user)
        sections["metrics"] = _guarded("metrics", _metrics)
        # A rotation that rolled back or failed before revoking: the loudest thing on the page.
        sections["leaked_keys"] = _guarded("leaked keys", _leaked_keys)
    if user.has_perm("campaigns.view_campaign"):
        sections["campaigns"] = _guarded("campaigns", _campaigns)
    if user.has_perm("incidents.approve_risky_step"):
        sections["approvals"] = _guarded("approvals", _approvals, user)
    frontpage = {k: v for k, v in sections.items() if v is not None}
    frontpage["summary"] = frontpage_summary(frontpage)
    return {"frontpage": frontpage}


def frontpage_summary(frontpage: dict) -> list[str]:
    """The answer at the top (red integrations are named by the template from the tiles):
    what is open, what is overdue, what waits for this person."""
    parts = []
    incidents = frontpage.get("incidents")
    if incidents and incidents["rows"]:
        n = len(incidents["rows"])
        overdue = sum(len(r["overdue"]) for r in incidents["rows"])
        text = f"{n}{'+' if incidents['more'] else ''} open incident{'s' if n != 1 else ''}"
        if overdue:
            text += f", {overdue} step{'s' if overdue != 1 else ''} overdue"
        parts.append(text)
    approvals = frontpage.get("approvals")
    if approvals:
        waiting = sum(1 for r in approvals["rows"] if not r["mine"])
        if waiting:
            parts.append(f"{waiting} approval{'s' if waiting != 1 else ''} waiting for you")
    return parts
