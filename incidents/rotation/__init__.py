"""Credential Leak runbook: the Supabase service-role key rotation saga (issue 8).

services.py   prepare / request (two-person rule via incidents.services.approvals) / cancel
saga.py       the executor: claim, nine recorded steps, rollback before revocation, resume
steps.py      what each step does against Secrets Manager, Vercel, Supabase, Slack
plan.py       the dry run: every call it would make, secrets masked
actions.py    the runbook actions registered with incidents.actions
"""
