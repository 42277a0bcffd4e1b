"""The five runbooks of docs/runbooks.md, one module each. Importing this package registers
them with the engine (IncidentsConfig.ready() does); RUNBOOKS is the engine's registry."""

from incidents.engine.runbook import (
    PHASE_LABELS,
    PHASES,
    RUNBOOKS,
    Runbook,
    runbook_get,
    runbook_register,
)
from incidents.runbooks import (
    credential_leak,
    dispatcher_stall,
    station_redeem,
    voucher_preview,
    whatsapp_send,
)

for _module in (voucher_preview, whatsapp_send, dispatcher_stall, station_redeem, credential_leak):
    runbook_register(_module.RUNBOOK)

__all__ = ["PHASES", "PHASE_LABELS", "RUNBOOKS", "Runbook", "runbook_get"]
