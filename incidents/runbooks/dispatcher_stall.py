from datetime import timedelta

from incidents.runbooks.base import Phase, Runbook, action, checklist, close_page, gate, page_oncall

RUNBOOK = Runbook(
    key="dispatcher_stall",
    title="Campaign Dispatcher Stalls",
    severity="sev2",
    phases=(
        Phase(
            "detect",
            (
                checklist(
                    "detected",
                    "Campaign detail shows running but targets not advancing; Integrations Status "
                    "amber/red.",
                ),
                page_oncall(),
            ),
        ),
        Phase(
            "immediate",
            (
                action(
                    "status",
                    "Hit status endpoint; confirm queue length.",
                    "campaign_status",
                ),
                action("pause", "Pause campaign to prevent stale state.", "campaign_pause"),
            ),
        ),
        Phase(
            "mitigation",
            (
                action(
                    "replay",
                    "Replay dispatcher by calling stop then start once EF healthy.",
                    "dispatcher_replay",
                ),
                action(
                    "notify_engineering",
                    "If EF unreachable, keep campaign paused and notify engineering.",
                    "engineering_notify",
                ),
            ),
        ),
        Phase(
            "resolution",
            (
                gate(
                    "targets_advance",
                    "Verify target statuses update within 5 minutes.",
                    "targets_advance",
                    due_after=timedelta(minutes=5),
                    after=("replay",),
                ),
                action(
                    "record_actions",
                    "Record actions in audit_log.",
                    "incident_resolution_audit",
                ),
                close_page(),
            ),
        ),
    ),
)
