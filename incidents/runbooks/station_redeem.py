from incidents.runbooks.base import Phase, Runbook, action, checklist, close_page, gate, page_oncall

RUNBOOK = Runbook(
    key="station_redeem",
    title="Station Redeem Anomalies",
    severity="sev2",
    phases=(
        Phase(
            "detect",
            (
                checklist(
                    "detected",
                    "Station PWA returns errors for valid vouchers or allows double redemption.",
                ),
                page_oncall(),
            ),
        ),
        Phase(
            "immediate",
            (
                action(
                    "redeem_logs",
                    "Check /api/station/redeem logs for idempotency failures.",
                    "redeem_attempts_review",
                ),
                action(
                    "voucher_review",
                    "Review voucher status and events for affected IDs.",
                    "vouchers_review",
                ),
            ),
        ),
        Phase(
            "mitigation",
            (
                action(
                    "void_replace",
                    "If double redemption: mark voucher void and issue replacement manually.",
                    "voucher_void_and_replace",
                ),
                action(
                    "scope",
                    "If scope mismatch: update voucher station_scope or educate station operator.",
                    "voucher_scope_set",
                ),
            ),
        ),
        Phase(
            "escalation",
            (
                action(
                    "data_ops",
                    "Notify Data Ops if OCR mapping produced wrong station scope.",
                    "dataops_notify",
                ),
            ),
        ),
        Phase(
            "resolution",
            (
                gate(
                    "note",
                    "Add incident note in Logs page",
                    "incident_note_added",
                    after=("void_replace", "scope"),  # the note records the mitigation
                ),
                action(
                    "vendor_support",
                    "and communicate to vendor support.",
                    "vendor_support_notify",
                ),
                close_page(),
            ),
        ),
    ),
)
