"""What an action is: a registered callable with a parameter schema, a risk tier and flags.

Actions are small: each calls the owning app's service and logs what it did. They
take an `ActionContext`, return a JSON-able result dict, and raise `ActionError`
for a failure worth showing (any other exception is a bug and is logged as one).
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from audit.redaction import mask_text

# Risk tiers → the permission a person needs to run the step.
TIER_PERMISSIONS = {
    "safe": "incidents.run_safe_step",
    "operational": "incidents.run_operational_step",
    "risky": "incidents.request_risky_step",
}


class ActionError(Exception):
    """The action failed in a way an operator can read and act on."""


class RetryableActionError(ActionError):
    """A transient failure (timeout, 5xx): retried when the action is safe to retry."""


@dataclass(frozen=True)
class Param:
    name: str
    label: str
    kind: str = "str"  # str | text | int | bool | int_list | str_list
    required: bool = True
    default: Any = None
    help: str = ""
    # Fill the default from the incident's first impacted object of this type.
    from_impacted: str = ""


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

    @property
    def permission(self) -> str:
        return TIER_PERMISSIONS[self.tier]

    @property
    def risky(self) -> bool:
        return self.tier == "risky"


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
        _REGISTRY[key] = Action(key=key, label=label, func=func, **kwargs)
        return func

    return wrap


def action_get(key: str) -> Action:
    from incidents import actions  # noqa: F401  (importing the package registers every action)

    try:
        return _REGISTRY[key]
    except KeyError:
        raise ValidationError(f"Unknown action {key!r}.") from None


def actions_all() -> dict[str, Action]:
    from incidents import actions  # noqa: F401

    return dict(_REGISTRY)


def _coerce(param: Param, raw: Any) -> Any:
    if param.kind == "bool":
        return raw in (True, "true", "on", "1", 1, "yes")
    if param.kind == "int":
        try:
            return int(str(raw).strip())
        except ValueError:
            raise ValidationError(f"{param.label}: a whole number is required.") from None
    if param.kind in ("int_list", "str_list"):
        items = raw if isinstance(raw, list) else str(raw).replace("\n", ",").split(",")
        items = [str(i).strip() for i in items if str(i).strip()]
        if param.kind == "int_list":
            try:
                return [int(i) for i in items]
            except ValueError:
                raise ValidationError(f"{param.label}: whole numbers, comma-separated.") from None
        return [mask_text(i) for i in items]
    value = str(raw).strip()
    if len(value) > 2000:
        raise ValidationError(f"{param.label}: at most 2000 characters.")
    # A credential pasted into a parameter is masked before it is stored, run or posted.
    return mask_text(value)


def params_clean(action: Action, raw: dict | None) -> dict:
    """Validate and normalise submitted parameters; unknown names are refused."""
    raw = dict(raw or {})
    known = {p.name for p in action.params}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ValidationError(f"Unknown parameter(s): {', '.join(unknown)}.")
    cleaned: dict[str, Any] = {}
    for param in action.params:
        value = raw.get(param.name, param.default)
        if value in (None, "", []) and param.kind != "bool":
            if param.required:
                raise ValidationError(f"{param.label} is required.")
            continue
        cleaned[param.name] = _coerce(param, value if value is not None else False)
    return cleaned


def params_hash(*, action_key: str, step_id: int, params: dict) -> str:
    payload = json.dumps(
        {"action": action_key, "step": step_id, "params": params}, sort_keys=True, default=str
    )
    return hashlib.sha256(payload.encode()).hexdigest()
