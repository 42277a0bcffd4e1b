"""Credential Leak runbook: the Supabase service-role key rotation saga (issue 8), as its
own app. It builds on the incidents engine (runs, approvals, timeline) and services; the
incidents engine and services never import it.

models.py          the projects registry, runs, steps, targets; the run claim rule
services.py        prepare / request (two-person rule via the engine) / cancel
saga.py            the executor: claim, nine recorded steps, rollback before revocation, resume
context.py         what one execution carries from step to step (keys in memory only)
steps.py           steps 1, 2, 5–9 against Secrets Manager, Supabase, sessions, Slack
steps_targets.py   steps 3–4 (Vercel env, Edge Function secrets) and their rollback
plan.py            the dry run: every call it would make, secrets masked
actions.py         the runbook actions, registered with the engine from RotationConfig.ready()
admin.py           the registry and rotation pages (start, dry run, resume, cancel)
"""
