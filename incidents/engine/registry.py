"""What an action is, and the registry of them.

An action is a registered callable with a parameter schema (`Param`), a risk tier and
flags. It takes an `ActionContext`, returns a JSON-able result dict and raises
`ActionError` for a failure worth showing (any other exception is a bug and is logged as
one). The catalogue (`incidents/actions/`, `rotation/actions.py`) fills the registry
from its apps' `ready()`; the engine only ever looks actions up by key.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from audit.redaction import mask_text
from incidents.engine.params import Param

# Risk tiers → the permission a person needs to run the step.
TIER_PERMISSIONS = {
    "safe": "incidents.run_safe_step",
    "operational": "incidents.run_operational_step",
    "risky": "incidents.request_risky_step",
}


def step_permission(*, kind: str, action_key: str = "") -> str:
    """What a person needs to run, skip or tick a step: its action's tier for an action
    step, the safe-step permission for a checklist item or a gate."""
    if kind == "action":
        return action_get(action_key).permission
    return TIER_PERMISSIONS["safe"]


logger = logging.getLogger(__name__)


def _word(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


class ActionError(Exception):
    """The action failed in a way an operator can read and act on."""


class RetryableActionError(ActionError):
    """A transient failure (timeout, 5xx): retried when the action is safe to retry."""


@dataclass(frozen=True)
class PageLink:
    """A link the incident page shows next to the step's form, e.g. the page where the
    leaked key is entered. `url_name` is reversed with the incident's id."""

    url_name: str
    label: str
    help: str = ""


@dataclass(frozen=True)
class Action:
    key: str
    label: str
    func: Callable[["ActionContext"], dict]
    tier: str = "safe"
    params: tuple[Param, ...] = ()
    safe_to_retry: bool = False
    max_attempts: int = 3
    timeout_seconds: int = 60
    describe: str = ""
    page_link: PageLink | None = None
    # What the step will act on, resolved from mutable records (a project's ref, a
    # registry row): `plan(incident, params) -> {name: value}`. An approval binds it too,
    # so an edit after approval stops the run (incidents.engine.approvals).
    plan: Callable[[Any, dict], dict] | None = None
    # What a run records as done outside its log (e.g. a rotation's saga steps):
    # `progress(incident, params) -> [line]`, shown when its worker was lost mid-run.
    progress: Callable[[Any, dict], list[str]] | None = None
    # What running it will do, in plain words, for the approval panel: params → sentences.
    consequences: Callable[[dict], list[str]] | None = None

    @property
    def permission(self) -> str:
        return TIER_PERMISSIONS[self.tier]

    @property
    def risky(self) -> bool:
        return self.tier == "risky"

    @property
    def attempts(self) -> int:
        return self.max_attempts if self.safe_to_retry else 1

    def what_it_does(self, params: dict) -> list[str]:
        """Plain sentences saying what a run with `params` will do (never the raw dict)."""
        if self.consequences is not None:
            try:
                return self.consequences(params)
            except Exception:  # the panel falls back to the labelled parameters
                logger.exception("consequences of %s failed", self.key)
        labels = {p.name: p.label for p in self.params}
        shown = "; ".join(
            f"{labels.get(k, k)}: {_word(v)}" for k, v in params.items() if v not in ("", None)
        )
        return [f"Runs “{self.label}”" + (f" with {shown}." if shown else ".")]

    @property
    def budget_seconds(self) -> int:
        """The action's whole time budget: every attempt at its timeout. The task timeout and
        the stale-run sweep are both derived from this one number."""
        return self.timeout_seconds * self.attempts


@dataclass
class ActionContext:
    incident: Any
    step: Any
    params: dict
    dry_run: bool
    actor: Any
    actor_name: str
    on_log: Callable[[str], None] | None = None
    lines: list[str] = field(default_factory=list)

    def log(self, message: str) -> None:
        line = mask_text(str(message))
        self.lines.append(line)
        if self.on_log:
            self.on_log(line)

    def impacted_ids(self, object_type: str) -> list[str]:
        return list(
            self.incident.impacted.filter(object_type=object_type).values_list(
                "object_id", flat=True
            )
        )


_REGISTRY: dict[str, Action] = {}


def register(key: str, label: str, **kwargs) -> Callable:
    def wrap(func: Callable[[ActionContext], dict]) -> Callable:
        if key in _REGISTRY:
            raise RuntimeError(f"action {key!r} registered twice")
        if kwargs.get("tier", "safe") not in TIER_PERMISSIONS:
            raise RuntimeError(f"action {key!r}: unknown tier {kwargs['tier']!r}")
        _REGISTRY[key] = Action(key=key, label=label, func=func, **kwargs)
        return func

    return wrap


def action_get(key: str) -> Action:
    try:
        return _REGISTRY[key]
    except KeyError:
        raise ValidationError(f"Unknown action {key!r}.") from None


def action_plan(action: Action, *, incident: Any, params: dict) -> dict:
    """The resolved plan an approval binds: {} for an action whose effect depends on its
    parameters alone. A plan that cannot be resolved is an ActionError."""
    if action.plan is None:
        return {}
    return action.plan(incident, params)


def actions_all() -> dict[str, Action]:
    return dict(_REGISTRY)


@dataclass
class Notice:
    """Something another app wants said at the top of an incident page (e.g. a rotation that
    rolled back: the leaked key is still active). `steps`: (number, name, state, started,
    finished, detail) rows, e.g. a saga's."""

    tone: str  # green | amber | red | blue | grey (opsportal's pills)
    headline: str
    lines: list[str] = field(default_factory=list)
    link_url: str = ""
    link_label: str = ""
    steps: list[tuple] = field(default_factory=list)


_NOTICES: list[Callable[[Any], list[Notice]]] = []


def register_notices(func: Callable[[Any], list[Notice]]) -> Callable:
    """`func(incident)` → notices for its page; called on every render of the page."""
    _NOTICES.append(func)
    return func


def incident_notices(incident) -> list[Notice]:
    notices = []
    for func in _NOTICES:
        try:
            notices.extend(func(incident))
        except Exception:  # a notice must never take the incident page down with it
            logger.exception("incident notices from %s failed", func.__name__)
    return notices
