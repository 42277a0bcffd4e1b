"""Violation messages from jsonschema errors: the place and the rule, never the value.

jsonschema's own messages quote the instance ("'Bearer sk_…' does not match …"); a
request's headers and bodies carry keys and secrets, so these say what the rule is instead.
"""

from jsonschema.exceptions import ValidationError

_NAMES_ONLY = {"required", "additionalProperties", "dependentRequired"}


def _describe(error: ValidationError) -> str:
    kind, rule = error.validator, error.validator_value
    if kind in _NAMES_ONLY:
        text = error.message  # names the property, never a value
    elif kind == "enum":
        text = f"must be one of {rule}"
    elif kind == "const":
        text = f"must be {rule!r}"
    elif kind == "type":
        text = f"must be of type {rule}"
    elif kind == "pattern":
        text = f"must match {rule!r}"
    elif kind == "format":
        text = f"must be a valid {rule}"
    elif kind in ("minLength", "maxLength", "minItems", "maxItems", "minProperties"):
        text = f"fails {kind} {rule}"
    elif kind == "maxProperties" and rule == 0:
        text = "must be empty (nothing documented goes here)"
    elif kind in ("anyOf", "oneOf"):
        forms = [" + ".join(alt["required"]) for alt in rule if set(alt) <= {"required"}]
        text = "must take one of the documented forms"
        if forms and len(forms) == len(rule):
            text = f"needs one of: {' | '.join(forms)}"
    elif kind == "not":
        text = "is not allowed here"
    else:
        text = f"fails {kind}"
    description = error.schema.get("description") if isinstance(error.schema, dict) else None
    return f"{text} ({description})" if description else text


def _forms_only(error: ValidationError) -> bool:
    rule = error.validator_value
    return isinstance(rule, list) and all(set(alt) <= {"required"} for alt in rule)


def _closest(errors: list[ValidationError]) -> ValidationError:
    """Among the errors of the forms tried: a form that failed on its very type is the
    wrong form, not the closest one; of the rest, the error deepest in the instance."""
    right_type = [e for e in errors if not (e.validator == "type" and not e.relative_path)]
    return max(right_type or errors, key=lambda e: len(e.absolute_path))


def explain(error: ValidationError) -> tuple[ValidationError, str]:
    """The error worth showing, and its message. For "none of the allowed forms" the
    closest form's own error says more (its place and rule), with the forms' description."""
    outer = error
    while error.validator in ("anyOf", "oneOf") and error.context and not _forms_only(error):
        error = _closest(list(error.context))
    text = _describe(error)
    description = outer.schema.get("description") if isinstance(outer.schema, dict) else None
    if error is not outer and description and description not in text:
        text = f"{text} ({description})"
    return error, text


def where(error: ValidationError, top: str) -> str:
    parts = [str(p) for p in error.absolute_path]
    return ".".join(parts) if parts else top
