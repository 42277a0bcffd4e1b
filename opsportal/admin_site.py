"""The admin site, and the policy it applies to every ModelAdmin registered on it.

`register()` mixes `SitePolicy` into each ModelAdmin class, ours and third-party ones
(auth, django-q2) alike, so no admin page can forget it:
- every add, change and delete is audited with its field-by-field diff
  (`audit.admin_changes.AuditedChangesMixin`);
- no changelist filter may reach a secret or hash field (`?token_hash__startswith=` is a
  way to read a hash out one character at a time): such lookups are a 400.
"""

import re

from django.contrib import admin
from django.db.models.constants import LOOKUP_SEP
from django.template.response import TemplateResponse
from django.urls import path
from django.views.decorators.http import require_GET

from audit.admin_changes import AuditedChangesMixin
from staff.security import login_succeeded, password_changed
from staff.signout import signed_out_forget, signed_out_notice

# A lookup that walks through any of these (e.g. `user__password__startswith`) is refused.
SECRET_LOOKUP_PART = re.compile(r"(^|_)(hash|password|secret|signature|salt)$", re.IGNORECASE)


class SitePolicy(AuditedChangesMixin):
    def lookup_allowed(self, lookup, value, request=None):
        if any(SECRET_LOOKUP_PART.search(part) for part in lookup.split(LOOKUP_SEP)):
            return False
        return super().lookup_allowed(lookup, value, request)


class OpsPortalAdminSite(admin.AdminSite):
    site_header = "OpsPortal"
    site_title = "OpsPortal"
    index_title = "What is broken, and what to do next"
    enable_nav_sidebar = True

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, SitePolicy):
            admin_class = type(
                admin_class.__name__,
                (SitePolicy, admin_class),
                {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__},
            )
        super().register(model_or_iterable, admin_class, **options)

    def index(self, request, extra_context=None):
        # The front page: tiles, open incidents, campaigns, MTTA/MTTR, approvals (frontpage.py).
        from opsportal.frontpage import frontpage_context

        return super().index(request, {**frontpage_context(request), **(extra_context or {})})

    def login(self, request, extra_context=None):
        was_signed_in = request.user.is_authenticated
        # "You were signed out because …" after a sign-out of everyone (staff/signout.py).
        extra_context = {"signed_out": signed_out_notice(request), **(extra_context or {})}
        response = super().login(request, extra_context)
        if request.method == "POST" and request.user.is_authenticated and not was_signed_in:
            login_succeeded(request=request, user=request.user)
            signed_out_forget(response)
        return response

    def password_change(self, request, extra_context=None):
        response = super().password_change(request, extra_context)
        if request.method == "POST" and response.status_code == 302:
            password_changed(request=request, user=request.user)
        return response

    def get_urls(self):
        return [
            path("search/", self.admin_view(require_GET(self.search_view)), name="portal_search"),
        ] + super().get_urls()

    def search_view(self, request):
        """The header's search box: every kind this person may read (opsportal/search.py)."""
        from opsportal.search import MAX_QUERY, search_everything

        q = " ".join(request.GET.get("q", "").split())[:MAX_QUERY]
        kinds = search_everything(q=q, user=request.user)
        context = {
            **self.each_context(request),
            "title": f"Find “{q}”" if q else "Find",
            "search_q": q,
            "kinds": kinds,
            "found": sum(len(k.hits) for k in kinds),
        }
        return TemplateResponse(request, "opsportal/search.html", context)
