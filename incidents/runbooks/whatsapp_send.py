from datetime import timedelta

from incidents.runbooks.base import Phase, Runbook, action, checklist, close_page, gate, page_oncall

RUNBOOK = Runbook(
    key="whatsapp_send",
    title="WhatsApp Send Failures",
    severity="sev2",
    phases=(
        Phase(
            "detect",
            (
                checklist(
                    "detected",
                    "Elevated failures in Notifications, toast error send_failed, or EF returning "
                    "5xx/429.",
                ),
                page_oncall(),
            ),
        ),
        Phase(
            "immediate",
            (
                action(
                    "pause_all",
                    "Pause campaigns via Admin Panel (Stop action) to prevent further sends.",
                    "campaigns_pause_running",
                ),
                action(
                    "check_settings",
                    "Check quiet hours and throttle settings to ensure they are not misconfigured.",
                    "campaigns_misconfigured",
                ),
            ),
        ),
        Phase(
            "mitigation",
            (
                action(
                    "reschedule",
                    "If rate-limited (429), honor retry-after and reschedule sends.",
                    "campaign_reschedule_after",
                ),
                action(
                    "export_failed",
                    "If invalid numbers, export failed targets for data cleanup.",
                    "targets_failed_export",
                ),
            ),
        ),
        Phase(
            "escalation",
            (
                action(
                    "notify_provider",
                    "Notify WABA provider if issue persists >15 minutes.",
                    "whatsapp_provider_notify",
                    due_after=timedelta(minutes=15),
                ),
            ),
        ),
        Phase(
            "resolution",
            (
                gate(
                    "ef_202",
                    "Resume campaigns once EF returns 202.",
                    "whatsapp_ef_202",
                    after=("pause_all",),  # a 202 after the pause, never the opening's state
                ),
                action("resume", "Resume the paused campaigns.", "campaigns_resume"),
                action(
                    "resolution_audit",
                    "Log incident summary in audit log under incident_resolution.",
                    "incident_resolution_audit",
                ),
                close_page(),
            ),
        ),
    ),
)
