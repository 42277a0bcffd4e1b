from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Campaigns"

    def ready(self) -> None:
        from campaigns.health import probe_campaign_dispatcher
        from integrations.probes import register_probe

        register_probe(
            "campaign_dispatcher",
            probe_campaign_dispatcher,
            label="Campaign dispatcher",
            local=True,
            extra_keys=("queue_length",),
        )
