from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "staff"
    label = "staff"
    verbose_name = "Staff access"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from staff.roles import sync_roles_after_migrate
        from staff.security import connect_security_signals

        connect_security_signals()
        # Later migrations add permissions; keep the role groups in step with roles.py.
        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="opsportal.sync_roles")
