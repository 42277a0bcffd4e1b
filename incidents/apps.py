from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"

    def ready(self) -> None:
        # The rotation admin lives with the rotation code (incidents/rotation/).
        from incidents.rotation import admin  # noqa: F401
