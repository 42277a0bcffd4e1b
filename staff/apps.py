from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "staff"
    label = "staff"
    verbose_name = "Staff access"

    def ready(self) -> None:
        from staff.security import connect_security_signals

        connect_security_signals()
