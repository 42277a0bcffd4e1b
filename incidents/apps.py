from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"

    def ready(self) -> None:
        # The rotation admin lives with the rotation code (incidents/rotation/).
        from incidents.degraded import open_voucher_preview_incident
        from incidents.rotation import admin  # noqa: F401
        from integrations.degraded import register_degraded_override

        register_degraded_override("voucher_png", open_voucher_preview_incident)
