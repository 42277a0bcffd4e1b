"""Detectors of the Credential Leak runbook."""

from datetime import UTC, datetime, timedelta

from django.db.models import Max
from django.utils import timezone

from audit.models import AuditEntry
from incidents.detectors.registry import Finding, detector, finding_open
from incidents.logwatch import KEEP_SECONDS, sightings_get
from incidents.models import IncidentNote

WINDOW = timedelta(hours=1)


@detector("revoked_token_use", window=WINDOW)
def revoked_token_use() -> list[Finding]:
    """Staff API access with a revoked token in the last hour: someone holds a credential
    they should not. The evidence is the token's latest refused use."""
    since = timezone.now() - WINDOW
    rows = (
        AuditEntry.objects.filter(action="api_token.rejected", at__gte=since)
        .filter(data__reason="revoked")
        .values("target_id", "target_repr")
        .annotate(latest=Max("at"))
        .order_by("target_id")[:20]
    )
    return [
        Finding(
            runbook_key="credential_leak",
            subject=f"revoked_token:{row['target_id']}",
            title="Staff API called with a revoked token",
            detail=f"revoked staff token {row['target_repr']} was used in the last hour",
            evidence_at=row["latest"],
        )
        for row in rows
    ]


def secret_seen_in_note(*, note_id: int) -> None:
    """A credential pattern was pasted into an incident note (masked before storing)."""
    note = IncidentNote.objects.select_related("incident").get(pk=note_id)
    finding_open(
        Finding(
            runbook_key="credential_leak",
            subject="secret_in_note",
            title="Credential pattern pasted into an incident note",
            detail=f"a key-shaped value appeared in a note on incident #{note.incident_id} "
            f"by {note.author_name} (masked before storing)",
        )
    )


@detector("secret_in_logs", window=timedelta(seconds=KEEP_SECONDS))
def secret_in_logs() -> list[Finding]:
    """A service-role-shaped key went through our own logging (fingerprint only is kept);
    the evidence is its latest sighting, so a resolved incident settles it until the key is
    logged again."""
    return [
        Finding(
            runbook_key="credential_leak",
            subject=f"secret_in_logs:{fp}",
            title="Service-role key pattern in application logs",
            detail=f"a key with fingerprint {fp} was logged by {seen['logger']} "
            "(masked before output)",
            evidence_at=datetime.fromtimestamp(seen.get("last_at", seen["at"]), tz=UTC),
        )
        for fp, seen in sightings_get().items()
    ]
