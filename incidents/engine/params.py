"""An action's parameters: `Param` declares one, `ParamsForm` is the Django form built from
them. The same form renders the step's inputs on the incident page and validates what the
page, the API or a re-run submits, so rendering and validation cannot drift apart.

Every text value is masked (`audit.redaction.mask_text`) as it is cleaned: a credential
pasted into a parameter is never stored, run, approved or posted.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from audit.redaction import mask_text

MAX_TEXT = 2000
PREFIX = "param_"  # form field names on the incident page: param_<name>
KINDS = ("str", "text", "int", "bool", "int_list", "str_list")
_TRUE = (True, "true", "on", "1", 1, "yes")


@dataclass(frozen=True)
class Param:
    name: str
    label: str
    kind: str = "str"  # one of KINDS
    required: bool = True
    default: Any = None
    help: str = ""
    # Fill the default from the incident's first impacted object of this type.
    from_impacted: str = ""
    # A default read from the world, given the values before it: (value, why) or None,
    # e.g. the Retry-After the provider last returned; `why` is shown next to the field.
    suggest: Callable[[dict], tuple[Any, str] | None] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"param {self.name!r}: unknown kind {self.kind!r}")


def _items(raw: Any) -> list[str]:
    items = raw if isinstance(raw, list) else str(raw).replace("\n", ",").split(",")
    return [str(i).strip() for i in items if str(i).strip()]


class _ParamField(forms.Field):
    """One Param as a form field: `to_python` is the coercion, `prepare_value` the display."""

    empty_values = (None, "", [])

    def __init__(self, param: Param, **kwargs):
        self.param = param
        super().__init__(label=param.label, required=param.required, help_text=param.help, **kwargs)
        self.error_messages["required"] = f"{param.label} is required."

    def clean(self, value: Any) -> Any:
        # Emptiness is judged on what was submitted, before coercion: an empty optional
        # value is left out of the run's parameters (None), a present one is coerced.
        if value in self.empty_values:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return None
        return self.to_python(value)


class _TextField(_ParamField):
    def to_python(self, value: Any) -> str:
        value = str(value).strip()
        if len(value) > MAX_TEXT:
            raise ValidationError(f"{self.param.label}: at most {MAX_TEXT} characters.")
        return mask_text(value)


class _IntField(_ParamField):
    def to_python(self, value: Any) -> int:
        try:
            return int(str(value).strip())
        except ValueError:
            raise ValidationError(f"{self.param.label}: a whole number is required.") from None


class _Checkbox(forms.CheckboxInput):
    def value_from_datadict(self, data, files, name):
        return data.get(name)  # the field decides what counts as ticked ("yes", 1, "on", …)


class _BoolField(_ParamField):
    widget = _Checkbox

    def clean(self, value: Any) -> bool:
        return value in _TRUE  # unticked is an answer (False), never "missing"


class _ListField(_ParamField):
    def to_python(self, value: Any) -> list:
        items = _items(value)
        if self.param.kind == "str_list":
            return [mask_text(i) for i in items]
        try:
            return [int(i) for i in items]
        except ValueError:
            raise ValidationError(f"{self.param.label}: whole numbers, comma-separated.") from None

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(str(v) for v in value) if isinstance(value, list) else value


def _field(param: Param) -> _ParamField:
    if param.kind == "bool":
        return _BoolField(param)
    if param.kind == "int":
        return _IntField(param)
    if param.kind in ("int_list", "str_list"):
        return _ListField(param)
    widget = forms.Textarea(attrs={"rows": 2}) if param.kind == "text" else forms.TextInput
    return _TextField(param, widget=widget)


class ParamsForm(forms.Form):
    """The form of one action's parameters. Bound to `{name: value}` (what the page, the API
    or a stored run submits); unbound, it renders the step's inputs with `initial`."""

    def __init__(self, params: tuple[Param, ...], *, data: dict | None = None, initial=None):
        self.params = params
        super().__init__(data=data, initial=initial, auto_id=False)
        for param in params:
            self.fields[param.name] = _field(param)

    def add_prefix(self, field_name: str) -> str:
        return f"{PREFIX}{field_name}"

    def cleaned_params(self) -> dict:
        """The values to store and run: empty optional values are left out, a bool is always
        there (unticked is False)."""
        if not self.is_valid():
            messages = [m for p in self.params for m in self.errors.get(p.name, [])]
            raise ValidationError(messages)
        return {p.name: v for p in self.params if (v := self.cleaned_data[p.name]) is not None}


def params_submitted(post) -> dict:
    """The parameters in a POSTed incident-page form (`param_<name>` fields)."""
    return {k[len(PREFIX) :]: v for k, v in post.items() if k.startswith(PREFIX)}


def params_clean(params: tuple[Param, ...], raw: dict | None) -> dict:
    """Validate and normalise submitted parameters; unknown names are refused and a missing
    name takes its Param's default."""
    raw = dict(raw or {})
    unknown = sorted(set(raw) - {p.name for p in params})
    if unknown:
        raise ValidationError(f"Unknown parameter(s): {', '.join(unknown)}.")
    data = {PREFIX + p.name: raw.get(p.name, p.default) for p in params}
    return ParamsForm(params, data=data).cleaned_params()


def params_initial(params: tuple[Param, ...], *, defaults: dict, impacted: Any) -> dict:
    """What a run starts from: the runbook step's defaults, each Param's default, else the
    incident's first impacted object of the Param's type (`impacted` is a queryset of
    ImpactedObject). Names without a value are left out."""
    initial: dict = {}
    for param in params:
        value = defaults.get(param.name)
        if value is None and param.suggest and (suggested := param.suggest(initial)):
            value = suggested[0]
        if value is None:
            value = param.default
        if value in (None, "") and param.from_impacted:
            value = (
                impacted.filter(object_type=param.from_impacted)
                .values_list("object_id", flat=True)
                .first()
            )
        if value is not None:
            initial[param.name] = value
    return initial


def params_notes(params: tuple[Param, ...], initial: dict) -> dict[str, str]:
    """Why a suggested default is what it is, per parameter (the page shows it)."""
    notes = {}
    for param in params:
        if param.suggest and (suggested := param.suggest(initial)):
            notes[param.name] = suggested[1]
    return notes


def params_hash(*, action_key: str, step_id: int, params: dict) -> str:
    """What an approval is bound to: this action, this step, exactly these parameters."""
    payload = json.dumps(
        {"action": action_key, "step": step_id, "params": params}, sort_keys=True, default=str
    )
    return hashlib.sha256(payload.encode()).hexdigest()
