from django.contrib import admin


class OpsPortalAdminSite(admin.AdminSite):
    site_header = "OpsPortal"
    site_title = "OpsPortal"
    index_title = "What is broken, and what to do next"
    enable_nav_sidebar = True

    def index(self, request, extra_context=None):
        # The front page: tiles, open incidents, campaigns, MTTA/MTTR, approvals (frontpage.py).
        from opsportal.frontpage import frontpage_context

        return super().index(request, {**frontpage_context(request), **(extra_context or {})})
