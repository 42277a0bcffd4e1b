"""Detectors of the Credential Leak runbook."""

from datetime import timedelta

from django.utils import timezone

from audit.models import AuditEntry
from incidents.detectors.registry import Finding, detector, finding_open
from incidents.logwatch import sightings_get
from incidents.models import IncidentNote

WINDOW = timedelta(hours=1)


@detector("revoked_token_use")
def revoked_token_use() -> list[Finding]:
    """Staff API access with a revoked token: someone holds a credential they should not."""
    since = timezone.now() - WINDOW
    rows = (
        AuditEntry.objects.filter(action="api_token.rejected", at__gte=since)
        .filter(data__reason="revoked")
        .values_list("target_id", "target_repr")
        .distinct()[:20]
    )
    return [
        Finding(
            runbook_key="credential_leak",
            subject=f"revoked_token:{token_id}",
            title="Staff API called with a revoked token",
            detail=f"revoked staff token {token_repr} was used in the last hour",
        )
        for token_id, token_repr in rows
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


@detector("secret_in_logs")
def secret_in_logs() -> list[Finding]:
    """A service-role-shaped key went through our own logging (fingerprint only is kept)."""
    return [
        Finding(
            runbook_key="credential_leak",
            subject=f"secret_in_logs:{fp}",
            title="Service-role key pattern in application logs",
            detail=f"a key with fingerprint {fp} was logged by {seen['logger']} "
            "(masked before output)",
        )
        for fp, seen in sightings_get().items()
    ]
