from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"

    def ready(self) -> None:
        # Imported here, not at module level: these modules use models, which Django loads
        # only after every AppConfig is imported. The upper layers fill the engine's and the
        # services' registries here; nothing below imports them ([tool.importlinter]).
        from incidents import actions, detectors, gates, runbooks  # noqa: F401  (they register)
        from incidents.degraded import open_voucher_preview_incident, paging_failing
        from incidents.detectors.credential_leak import secret_seen_in_note
        from incidents.services.timeline import secret_in_note_subscribe
        from integrations.degraded import register_degraded_override

        secret_in_note_subscribe(secret_seen_in_note)
        register_degraded_override("voucher_png", open_voucher_preview_incident)
        for provider in ("pagerduty", "slack"):
            register_degraded_override(provider, paging_failing(provider))
