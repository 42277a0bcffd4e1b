"""The failed-targets export: who exported which campaign's targets is audited, then the
CSV is streamed (campaigns.selectors.targets_export_csv)."""

from collections.abc import Iterator

from django.core.exceptions import PermissionDenied

import audit
from campaigns.errors import CampaignNotFound
from campaigns.models import Campaign
from campaigns.selectors import targets_export_csv

EXPORT_PERMISSION = "campaigns.export_targets"


def targets_export(*, campaign_id: int, actor) -> Iterator[str]:
    """The CSV lines of a campaign's failed and invalid targets, for someone allowed to
    export them; the export is audited before the first line is sent."""
    if not actor.has_perm(EXPORT_PERMISSION):
        raise PermissionDenied  # the API's 403 body is exactly {"error": "forbidden"}
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        raise CampaignNotFound(f"no campaign {campaign_id}")
    audit.record(
        action="campaign.targets_exported",
        actor=actor,
        target=campaign,
        data={"export": "failed and invalid targets", "format": "csv"},
    )
    return targets_export_csv(campaign_id=campaign_id)
