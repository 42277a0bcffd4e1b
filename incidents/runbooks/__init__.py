"""The five runbooks of docs/runbooks.md, one module each."""

from django.core.exceptions import ValidationError

from incidents.runbooks import (
    credential_leak,
    dispatcher_stall,
    station_redeem,
    voucher_preview,
    whatsapp_send,
)
from incidents.runbooks.base import PHASE_LABELS, PHASES, Runbook

RUNBOOKS: dict[str, Runbook] = {
    module.RUNBOOK.key: module.RUNBOOK
    for module in (
        voucher_preview,
        whatsapp_send,
        dispatcher_stall,
        station_redeem,
        credential_leak,
    )
}


def runbook_get(key: str) -> Runbook:
    try:
        return RUNBOOKS[key]
    except KeyError:
        raise ValidationError(f"Unknown runbook {key!r}.") from None


__all__ = ["PHASES", "PHASE_LABELS", "RUNBOOKS", "Runbook", "runbook_get"]
