from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class OpsPortalAdminConfig(AdminConfig):
    default_site = "opsportal.admin_site.OpsPortalAdminSite"


class OpsPortalConfig(AppConfig):
    """Wiring only: settings, root urls, the admin site, checks (staff accounts and roles: `staff/`)."""

    name = "opsportal"
    verbose_name = "OpsPortal"

    def ready(self) -> None:
        from audit.redaction import install_log_record_masking
        from opsportal import checks  # noqa: F401  (registers system checks)
        from opsportal.metrics.tasks import connect_task_signals
        from opsportal.permissions import connect_permission_signals

        # Permissions are served from memory; a change to anyone's invalidates it everywhere.
        connect_permission_signals()
        # Workers count the tasks they run (/metrics).
        connect_task_signals()
        # Every log record is masked when it is made, not only those the console sees.
        install_log_record_masking()
