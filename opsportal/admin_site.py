from django.contrib import admin


class OpsPortalAdminSite(admin.AdminSite):
    site_header = "OpsPortal"
    site_title = "OpsPortal"
    index_title = "What is broken, and what to do next"
    enable_nav_sidebar = True
