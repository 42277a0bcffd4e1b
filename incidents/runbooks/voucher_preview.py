from incidents.runbooks.base import Phase, Runbook, action, checklist, close_page, gate, page_oncall

RUNBOOK = Runbook(
    key="voucher_preview",
    title="Voucher Preview Failures",
    severity="sev3",
    phases=(
        Phase(
            "detect",
            (
                checklist(
                    "detected",
                    "Integrations Status shows voucher PNG = red or preview modal error reports "
                    "not_configured/timeout.",
                ),
                page_oncall(),
            ),
        ),
        Phase(
            "immediate",
            (
                action(
                    "ef_status",
                    "Confirm Supabase Edge Function deployment status via Supabase dashboard.",
                    "supabase_function_status",
                    params={"function": "voucher-png"},
                ),
                action(
                    "reprobe",
                    "Retry probe using /api/integrations/status?force=true.",
                    "integrations_reprobe",
                ),
            ),
        ),
        Phase(
            "mitigation",
            (
                action(
                    "tell_support",
                    'Communicate to support team: "Voucher previews unavailable; fallback to code '
                    'view." (Slack #ops channel).',
                    "slack_post",
                    params={"text": "Voucher previews unavailable; fallback to code view."},
                ),
                # Shown on every page while this incident is open (incidents.context_processors).
                checklist("degraded_copy", "Ensure Admin UI degraded copy is visible."),
            ),
        ),
        Phase(
            "resolution",
            (
                checklist("redeploy", "Redeploy EF or fix network issue."),
                gate(
                    "preview_works",
                    "Verify preview works;",
                    "voucher_png_green",
                    after=("redeploy",),
                ),
                close_page("close incident in PagerDuty."),
            ),
        ),
        Phase(
            "postmortem",
            (
                action(
                    "postmortem",
                    "Capture timeline, impacted vouchers, and mitigations used.",
                    "postmortem_draft",
                ),
            ),
        ),
    ),
)
