from incidents.runbooks.base import Phase, Runbook, action, checklist, close_page, page_oncall

RUNBOOK = Runbook(
    key="credential_leak",
    title="Supabase Credential Leak",
    severity="sev1",
    phases=(
        Phase(
            "detect",
            (
                checklist(
                    "detected",
                    "Service-role key appears in logs/repos or an external party gains access to "
                    "Admin APIs without authorisation.",
                ),
                page_oncall(),
            ),
        ),
        Phase(
            "immediate",
            (
                action(
                    "notify_owner",
                    "Notify the primary owner listed in docs/deployment/supabase-projects.md "
                    "(production or staging as appropriate).",
                    "supabase_owner_notify",
                ),
                action(
                    "fetch_key",
                    "Fetch a replacement key from AWS Secrets Manager "
                    "(prod/easymo/supabase/service-role or stg/easymo/supabase/service-role) "
                    "using the AWS CLI (the portal calls the same API; only a fingerprint is shown).",
                    "secret_replacement_fetch",
                ),
            ),
        ),
        Phase(
            "mitigation",
            (
                action(
                    "update_envs",
                    "Update Vercel + Supabase Edge Function environments with the new key.",
                    # The rotation saga (incidents/rotation/): envs, revoke, sessions, confirm.
                    "supabase_key_rotate",
                ),
                checklist("revoke_key", "Revoke the leaked key in the Supabase dashboard"),
                action(
                    "invalidate_sessions",
                    "…and invalidate Admin sessions.",
                    "admin_sessions_invalidate",
                ),
            ),
        ),
        Phase(
            "resolution",
            (
                checklist("confirm", "Confirm Admin API access requires the new key only."),
                action(
                    "summary",
                    "Post an incident summary with rotation timestamp in #ops.",
                    "slack_post",
                    params={"text": "Supabase service-role key rotated."},
                ),
                close_page(),
            ),
        ),
    ),
)
