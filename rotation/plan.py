"""The dry run: every call the saga would make, in order, with key values masked.

Nothing is changed and nothing is read from Secrets Manager: the plan is built from the
run and the project registry, plus one read — Vercel's current production deployment, so
the plan names the deployment step 3 would redeploy.
"""

from django.conf import settings
from django.contrib.sessions.models import Session

from incidents.engine.registry import ActionError
from integrations.clients.supabase_admin import project_url
from integrations.clients.vercel import VercelClient
from integrations.errors import IntegrationError
from rotation.models import RotationRun, RotationStep

NEW = "[new key from Secrets Manager, masked]"
OLD = "[leaked key from AWSPREVIOUS, masked]"


def _vercel_redeploy(project) -> list[str]:
    """Which deployment step 3 would redeploy: the one serving production now."""
    if not project.vercel_env_vars or not project.vercel_project:
        return []
    name = project.vercel_project
    try:
        current = VercelClient(project=name).production_deployment()["id"]
    except IntegrationError as exc:  # the plan still shows; the run looks it up again
        current = f"<not found now: {exc}>"
    return [
        f"Vercel GET /v7/deployments?projectId={name}&target=production&state=READY&limit=1: "
        f"production is deployment {current}",
        f"Vercel POST /v13/deployments?forceNew=1 {{name: {name}, project: {name}, "
        f"deploymentId: {current}, target: production}}: would redeploy {current}",
    ]


def rotation_bound(incident, params: dict) -> dict:
    """What an approved rotation will act on, resolved from the registry as the saga will
    read it: the approval binds these, so an edit of the project record (or a swapped
    row) after approval stops the run before its first call (incidents.engine.approvals)."""
    run = (
        RotationRun.objects.select_related("project")
        .filter(pk=params.get("rotation_id"), incident_id=incident.pk)
        .first()
    )
    if run is None:
        raise ActionError(f"No rotation #{params.get('rotation_id')} on this incident.")
    project = run.project
    return {
        "rotation": run.pk,
        "project_record": project.pk,
        "environment": project.environment,
        "project_ref": project.project_ref,
        # Step 1 tells the owner first: a changed contact would send the leak notice elsewhere.
        "primary_owner": project.primary_owner,
        "owner_email": project.owner_email,
        "owner_slack": project.owner_slack,
        "secret_id": project.service_role_secret_id,
        "vercel_project": project.vercel_project,
        "vercel_env_vars": list(project.vercel_env_vars),
        "vercel_targets": list(project.vercel_targets or ["production"]),
        "function_secret_names": list(project.function_secret_names),
        "edge_functions": list(project.edge_functions),
        "leaked_key": run.leaked_fingerprint,
        "leaked_key_id": run.leaked_key_id,
    }


def rotation_progress(incident, params: dict) -> list[str]:
    """The saga's own record of a run whose worker was lost: each step that started, as
    recorded (done, running when the worker stopped, failed), so a person knows what to
    check before resuming."""
    steps = RotationStep.objects.filter(
        run_id=params.get("rotation_id"), run__incident_id=incident.pk
    ).exclude(status=RotationStep.Status.PENDING)
    return [f"rotation step {s.number} {s.key}: {s.status} {s.detail}".rstrip() for s in steps]


def rotation_plan(run: RotationRun) -> list[str]:
    project = run.project
    ref, vercel = project.project_ref, project.vercel_project or "(none)"
    secret_id = project.service_role_secret_id
    mgmt = f"{settings.SUPABASE_MANAGEMENT_URL.rstrip('/')}/v1/projects/{ref}"
    auth = f"{project_url(ref)}/auth/v1/admin/users?per_page=1"
    done = set(run.steps.filter(status=RotationStep.Status.DONE).values_list("number", flat=True))
    targets = project.vercel_targets or ["production"]
    steps: dict[int, list[str]] = {
        1: [
            f"Slack chat.postMessage channel={project.owner_slack or '(none)'}: rotation "
            f"starting; e-mail to {project.owner_email or '(none)'}"
        ],
        2: [
            f"Secrets Manager GetSecretValue SecretId={secret_id} (AWSCURRENT): refuse if its "
            f"fingerprint is the leaked {run.leaked_fingerprint}",
            f"Secrets Manager GetSecretValue SecretId={secret_id} VersionStage=AWSPREVIOUS "
            "(kept in memory for a rollback)",
        ],
        3: [f"Vercel GET /v10/projects/{vercel}/env"]
        + [
            f"Vercel POST /v10/projects/{vercel}/env?upsert=true {{key: {name}, value: {NEW}, "
            f"type: encrypted, target: {targets}}}"
            for name in project.vercel_env_vars
        ]
        + _vercel_redeploy(project)
        + [
            f"Vercel GET /v13/deployments/<id> every {settings.ROTATION_DEPLOY_POLL_SECONDS}s "
            f"until READY (at most {settings.ROTATION_DEPLOY_TIMEOUT_SECONDS}s)",
        ],
        4: [
            f"Supabase GET {mgmt}/secrets (digests)",
            f"Supabase POST {mgmt}/secrets "
            + str([{"name": n, "value": NEW} for n in project.function_secret_names]),
            f"Supabase GET {mgmt}/secrets: each digest must be SHA-256 of the new key",
        ],
        5: [f"GET {auth} with apikey={NEW}: expect 200"],
        6: [
            f"Supabase DELETE {mgmt}/api-keys/{run.leaked_key_id}?was_compromised=true"
            "&reason=… (irreversible)"
        ]
        if run.leaked_kind == RotationRun.KeyKind.SECRET
        else [f"Supabase PUT {mgmt}/api-keys/legacy?enabled=false (disables every legacy key)"],
        7: [
            f"delete all {Session.objects.count()} staff session(s): everyone, including the "
            "operator, signs in again"
        ],
        8: [
            f"Secrets Manager GetSecretValue SecretId={secret_id} VersionStage=AWSPREVIOUS",
            f"GET {auth} with apikey={OLD}: expect 401",
            f"GET {auth} with apikey={NEW}: expect 200",
        ],
        9: [
            f"Slack chat.postMessage channel={settings.SLACK_OPS_CHANNEL}: summary with the "
            "rotation timestamp; audit entries"
        ],
    }
    if not project.vercel_env_vars:
        steps[3] = ["(no Vercel env vars listed: nothing to do)"]
    if not project.function_secret_names:
        steps[4] = ["(no Edge Function secrets listed: nothing to do)"]
    lines = [
        f"rotation #{run.pk}: {project.environment} ({ref}), leaked key "
        f"{run.leaked_fingerprint} ({run.get_leaked_kind_display()})"
    ]
    for number, calls in steps.items():
        prefix = f"{number}." + (" (done, skipped)" if number in done else "")
        lines.extend(f"{prefix} {call}" for call in calls)
    lines.append(
        "if step 3, 4 or 5 fails: the targets get their previous values back and "
        "nothing is revoked; a later failure stops the run and resume continues"
    )
    return lines
