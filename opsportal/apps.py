from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class OpsPortalAdminConfig(AdminConfig):
    default_site = "opsportal.admin_site.OpsPortalAdminSite"


class OpsPortalConfig(AppConfig):
    """Wiring only: settings, root urls, the admin site, roles, checks (staff accounts: `staff/`)."""

    name = "opsportal"
    verbose_name = "OpsPortal"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from audit.redaction import install_log_record_masking
        from opsportal import checks  # noqa: F401  (registers system checks)
        from opsportal.roles import sync_roles_after_migrate

        # Later migrations add permissions; keep the role groups in step with roles.py.
        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="opsportal.sync_roles")
        # Every log record is masked when it is made, not only those the console sees.
        install_log_record_masking()
