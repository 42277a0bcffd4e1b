"""Rotation steps 3 and 4: the places that hold the key (Vercel env vars, Edge Function
secrets), and how a rollback gives each its previous value back."""

from django.conf import settings

from rotation.context import Saga, StepFailed, management, vercel
from rotation.keys import value_digest
from rotation.models import RotationTarget

Kind = RotationTarget.Kind


# 3 ------------------------------------------------------------------------------------------
def update_vercel(saga: Saga, step) -> tuple[str, dict]:
    project = saga.project
    if not project.vercel_env_vars:
        return "no Vercel env vars listed for this project", {"skipped": True}
    client, new = vercel(saga), saga.new_key()
    existing = {e.get("key"): e.get("id", "") for e in client.env_list()}
    targets = project.vercel_targets or ["production"]
    for name in project.vercel_env_vars:
        known = saga.run.targets.filter(kind=Kind.VERCEL_ENV, name=name).first()
        if known is None:  # first time: remember what was there, for the rollback
            known = saga.target(
                Kind.VERCEL_ENV,
                name,
                existed=name in existing,
                external_id=existing.get(name, ""),
                fingerprint=saga.run.leaked_fingerprint if name in existing else "",
                state="old",
            )
        saga.target(Kind.VERCEL_ENV, name, state="unknown")  # the call may half-happen
        created = client.env_upsert(key=name, value=new, targets=targets, type="encrypted")
        saga.target(
            Kind.VERCEL_ENV,
            name,
            state="new",
            fingerprint=saga.run.new_fingerprint,
            external_id=known.external_id or created.get("id", ""),
        )
        saga.log(f"Vercel {project.vercel_project} {name} → {saga.run.new_fingerprint}")
    listed = {e.get("key") for e in client.env_list()}
    missing = [n for n in project.vercel_env_vars if n not in listed]
    if missing:
        raise StepFailed(f"Vercel does not list {', '.join(missing)} after the update.")
    # A project not deployed from git can only be redeployed from an existing deployment:
    # the one serving production now, rebuilt with the new variables (forceNew).
    current = client.production_deployment()
    saga.log(f"Vercel redeploys production deployment {current['id']}")
    deployment_id = client.redeploy_production(deployment=current).get("id", "")
    if not deployment_id:
        raise StepFailed("Vercel started no deployment.")
    saga.log(f"Vercel deployment {deployment_id} started; waiting until READY")
    step.data = {"deployment_id": deployment_id, "redeployed": current["id"]}
    step.save(update_fields=["data"])
    # ERROR/CANCELED/BLOCKED raise DeploymentFailed: the saga rolls the targets back.
    state = client.deployment_wait(
        deployment_id,
        timeout=settings.ROTATION_DEPLOY_TIMEOUT_SECONDS,
        interval=settings.ROTATION_DEPLOY_POLL_SECONDS,
    )
    return (
        f"{len(project.vercel_env_vars)} env var(s) hold {saga.run.new_fingerprint}; "
        f"deployment {deployment_id} (redeploy of {current['id']}) {state}",
        {
            "deployment_id": deployment_id,
            "redeployed": current["id"],
            "env_vars": list(project.vercel_env_vars),
        },
    )


# 4 ------------------------------------------------------------------------------------------
def update_function_secrets(saga: Saga, step) -> tuple[str, dict]:
    names = list(saga.project.function_secret_names)
    if not names:
        return "no Edge Function secrets listed for this project", {"skipped": True}
    client, new = management(saga), saga.new_key()
    before = client.secret_digests()
    for name in names:
        if not saga.run.targets.filter(kind=Kind.FUNCTION_SECRET, name=name).exists():
            saga.target(
                Kind.FUNCTION_SECRET,
                name,
                existed=name in before,
                fingerprint=saga.run.leaked_fingerprint if name in before else "",
                state="old",
            )
        saga.target(Kind.FUNCTION_SECRET, name, state="unknown")
    client.secrets_set({name: new for name in names})
    after = client.secret_digests()
    wrong = [n for n in names if after.get(n) != value_digest(new)]
    for name in names:
        if name not in wrong:
            saga.target(
                Kind.FUNCTION_SECRET, name, state="new", fingerprint=saga.run.new_fingerprint
            )
    if wrong:
        raise StepFailed(f"Edge Function secret(s) {', '.join(wrong)} do not hold the new key.")
    functions = ", ".join(saga.project.edge_functions) or "the project's functions"
    return (
        f"{', '.join(names)} hold {saga.run.new_fingerprint} (digest checked) for {functions}",
        {"secrets": names},
    )


def restore_target(saga: Saga, target: RotationTarget, old: str | None) -> str:
    """Rollback of one target: the previous value back, or removed if it did not exist."""
    if target.kind == Kind.VERCEL_ENV:
        client = vercel(saga)
        if not target.existed:
            env_id = target.external_id or next(
                (e.get("id") for e in client.env_list() if e.get("key") == target.name), ""
            )
            if env_id:
                client.env_delete(env_id)
            return "removed"
        if old is None:
            return "unknown: previous value not in Secrets Manager, restore by hand"
        client.env_upsert(
            key=target.name, value=old, targets=saga.project.vercel_targets or ["production"]
        )
        return "restored"
    client = management(saga)
    if not target.existed:
        client.secrets_delete([target.name])
        return "removed"
    if old is None:
        return "unknown: previous value not in Secrets Manager, restore by hand"
    client.secrets_set({target.name: old})
    return "restored"
