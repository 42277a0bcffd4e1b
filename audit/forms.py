"""The auditor's filters and the keyset cursor, parsed strictly (bad input -> 400)."""

from datetime import UTC, datetime, timedelta

from django import forms

_DATETIME_FORMATS = [
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
]


class EntryFilterForm(forms.Form):
    actor = forms.CharField(required=False, max_length=150)
    action = forms.CharField(required=False, max_length=64)
    target_type = forms.CharField(required=False, max_length=64)
    target_id = forms.CharField(required=False, max_length=64)
    incident = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    since = forms.DateTimeField(
        required=False, input_formats=_DATETIME_FORMATS, help_text="UTC, from (inclusive)"
    )
    until = forms.DateTimeField(
        required=False, input_formats=_DATETIME_FORMATS, help_text="UTC, before (exclusive)"
    )
    q = forms.CharField(required=False, max_length=100, label="Target contains")

    FILTER_NAMES = (
        "actor",
        "action",
        "target_type",
        "target_id",
        "incident",
        "since",
        "until",
        "q",
    )

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] >= data["until"]:
            raise forms.ValidationError("'since' must be before 'until'.")
        return data

    def active_filters(self) -> dict:
        """The filters that were given, for links and the export's own audit entry."""
        return {k: self.data[k] for k in self.FILTER_NAMES if self.data.get(k)}


class CursorError(ValueError):
    pass


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def encode_cursor(at: datetime, entry_id: int) -> str:
    return f"{(at - _EPOCH) // timedelta(microseconds=1)}.{entry_id}"


def decode_cursor(value: str) -> tuple[datetime, int]:
    """'<microseconds since epoch>.<id>' -> (at, id)."""
    try:
        micros_text, id_text = value.split(".", 1)
        micros, entry_id = int(micros_text), int(id_text)
        if not (0 <= micros < 2**62 and 0 < entry_id < 2**63):
            raise ValueError
        seconds, rest = divmod(micros, 1_000_000)
        return _EPOCH + timedelta(seconds=seconds, microseconds=rest), entry_id
    except (ValueError, OverflowError, OSError) as exc:
        raise CursorError("invalid page cursor") from exc
