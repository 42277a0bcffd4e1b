"""`manage.py demo --leak`: a credential leak to rotate in the running `make run` demo.

Against the stack `make run` started (the simulator and moto, found through the simulator's
`GET /_control/settings`): a leaked service-role key and its replacement are minted in the
simulated Supabase project (so the project accepts both), Vercel and the Edge Function
secrets get the leaked one (as before a leak is noticed), Secrets Manager gets the leaked
then the replacement (`put_secret_value` twice: AWSCURRENT = new, AWSPREVIOUS = leaked), and
a Credential Leak incident is opened. The keys are the simulator's, worthless elsewhere;
the leaked one is printed because the rotation form asks for it.
"""

import os
from dataclasses import dataclass

import httpx
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.test import override_settings

from incidents.services import incident_open
from integrations.clients.secrets_manager import SecretsManagerClient
from integrations.clients.supabase_management import SupabaseManagementClient
from integrations.clients.vercel import VercelClient
from integrations.errors import IntegrationError
from rotation.keys import key_fingerprint
from rotation.models import SupabaseProject


@dataclass(frozen=True)
class PlantedLeak:
    incident_id: int
    project: str
    leaked_key: str
    leaked_key_id: str
    leaked_fingerprint: str
    new_fingerprint: str


def simulator_settings(simulator_url: str) -> dict:
    """What points our clients at the running simulator and moto (its own answer)."""
    try:
        answer = httpx.get(f"{simulator_url.rstrip('/')}/_control/settings", timeout=5)
        answer.raise_for_status()
    except httpx.HTTPError:
        raise CommandError(
            f"No simulator answers at {simulator_url}: start `make run` first (it starts the "
            "simulator and moto), then run this in a second terminal."
        ) from None
    found = answer.json()
    if "AWS_SECRETS_ENDPOINT_URL" not in found:
        raise CommandError("The simulator runs without moto (--aws-port 0): nothing to plant in.")
    return found


def leak_plant(*, simulator_url: str, environment: str = "production") -> PlantedLeak:
    project = SupabaseProject.objects.filter(environment=environment).first()
    if project is None:
        raise CommandError(f"No Supabase project {environment!r} in the registry: run `demo`.")
    # moto takes any credentials; boto3 only needs some (make run passes the same).
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    with override_settings(**simulator_settings(simulator_url)):
        try:
            leaked, new = _mint_and_place(project)
        except IntegrationError as exc:
            raise CommandError(f"Planting the leak failed: {exc}") from None
    support = get_user_model().objects.filter(username="support").first()
    incident, _ = incident_open(
        runbook_key="credential_leak",
        actor=support,
        dedup_key=f"demo-leak-{key_fingerprint(leaked['api_key'])}",
        title=f"Demo: the {environment} service-role key was pasted in a public gist",
    )
    return PlantedLeak(
        incident_id=incident.pk,
        project=str(project),
        leaked_key=leaked["api_key"],
        leaked_key_id=leaked["id"],
        leaked_fingerprint=key_fingerprint(leaked["api_key"]),
        new_fingerprint=key_fingerprint(new["api_key"]),
    )


def _mint_and_place(project: SupabaseProject) -> tuple[dict, dict]:
    mgmt = SupabaseManagementClient(project_ref=project.project_ref)
    leaked = mgmt.api_key_create(name="service_role_leaked")
    new = mgmt.api_key_create(name="service_role_replacement")
    if project.vercel_project:
        vercel = VercelClient(project=project.vercel_project)
        for name in project.vercel_env_vars:
            vercel.env_upsert(
                key=name, value=leaked["api_key"], targets=project.vercel_targets or ["production"]
            )
    mgmt.secrets_set({name: leaked["api_key"] for name in project.function_secret_names})
    secrets = SecretsManagerClient()
    secrets.put(project.service_role_secret_id, leaked["api_key"])
    secrets.put(project.service_role_secret_id, new["api_key"])  # leaked → AWSPREVIOUS
    return leaked, new


def leak_instructions(leak: PlantedLeak, *, portal_url: str, simulator_url: str) -> list[str]:
    work = f"{portal_url.rstrip('/')}/admin/incidents/incident/{leak.incident_id}/work/"
    auth = f"{simulator_url.rstrip('/')}/auth/v1/admin/users"
    return [
        f"Credential Leak incident #{leak.incident_id} is open: {work}",
        f"  leaked key (simulator-only): {leak.leaked_key}",
        f"  leaked key id:               {leak.leaked_key_id}",
        f"  fingerprints: leaked {leak.leaked_fingerprint}, replacement {leak.new_fingerprint} "
        "(AWSCURRENT; the leaked key is AWSPREVIOUS)",
        "Three clicks (password opsportal-demo):",
        f"  1. As ops: open {work}, step 'Update Vercel + Supabase Edge Function environments' "
        "→ 'Prepare the key rotation', "
        f"project {leak.project}, paste the leaked key and its id → 'Prepare and request "
        "approval'.",
        "  2. As admin (another browser or a private window): the same page → 'Approve'.",
        "  3. Watch the saga: the step runs on the worker and the page refreshes itself; the "
        "rotation page lists the nine steps. Step 7 signs everyone out: sign in again.",
        f"Check at the simulator: curl -s -H 'apikey: {leak.leaked_key}' {auth}  → 401 after "
        "the rotation (200 before).",
    ]
