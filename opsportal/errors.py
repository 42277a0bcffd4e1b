"""The portal's own error pages (403, 404, 500) for people in a browser: what happened, which
role would have been needed, and the ways on (the front page, the page before, #ops).

`/api/…` keeps its JSON errors (staff.api_errors): these handlers answer JSON there too.
The 500 page renders without context processors or the database (whatever broke may be the
database) and shows only the request id, which support can quote to find the logs.
"""

import logging
import re

from django.conf import settings
from django.contrib.auth.models import Permission
from django.http import HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.urls import Resolver404, resolve
from django.utils.http import url_has_allowed_host_and_scheme

from staff.api_errors import error_response
from staff.roles import ROLES

logger = logging.getLogger(__name__)

PERMISSION_NAME = re.compile(r"^[a-z_]+\.[a-z_]+$")
# The admin's own URL names: <app>_<model>_<view> → the permission the view checks.
ADMIN_VIEW_PERMISSION = {
    "changelist": "view",
    "change": "view",
    "history": "view",
    "add": "add",
    "delete": "delete",
}


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def permission_needed(request, exception=None) -> str:
    """`app.codename` the refused page needed, when it can be told: the refusal's own
    message (`raise PermissionDenied("campaigns.add_target")`), else the admin view's."""
    if exception is not None and exception.args:
        first = str(exception.args[0])
        if PERMISSION_NAME.match(first):
            return first
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return ""
    model_admin = getattr(match.func, "model_admin", None)  # set by ModelAdmin.get_urls
    if model_admin is not None and match.url_name:
        opts = model_admin.opts
        view = match.url_name.removeprefix(f"{opts.app_label}_{opts.model_name}_")
        if view in ADMIN_VIEW_PERMISSION:
            return f"{opts.app_label}.{ADMIN_VIEW_PERMISSION[view]}_{opts.model_name}"
    return ""


def roles_granting(permission: str) -> list[str]:
    return [role for role, perms in ROLES.items() if permission in perms]


def _describe(permission: str) -> str:
    app_label, _, codename = permission.partition(".")
    name = (
        Permission.objects.filter(content_type__app_label=app_label, codename=codename)
        .values_list("name", flat=True)
        .first()
    )
    return name or permission


def _back_url(request) -> str:
    """The page the person came from, when it is one of ours."""
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, {request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return ""


def _context(request, **more) -> dict:
    from django.contrib import admin

    base = admin.site.each_context(request) if request.user.is_authenticated else {}
    return {
        **base,
        "back_url": _back_url(request),
        "ops_channel": settings.SLACK_OPS_CHANNEL,
        "request_id": getattr(request, "request_id", ""),
        **more,
    }


def forbidden(request, exception=None) -> HttpResponse:
    if _is_api(request):
        return error_response(403)
    permission = permission_needed(request, exception)
    user = request.user
    context = _context(
        request,
        title="You may not open this page",
        permission=permission,
        permission_name=_describe(permission) if permission else "",
        roles=roles_granting(permission) if permission else [],
        your_roles=(
            list(user.groups.order_by("name").values_list("name", flat=True))
            if user.is_authenticated
            else []
        ),
    )
    return render(request, "403.html", context, status=403)


def not_found(request, exception=None) -> HttpResponse:
    if _is_api(request):
        return error_response(404, detail="No such API path.")
    context = _context(request, title="Nothing here", path=request.path)
    return render(request, "404.html", context, status=404)


def server_error(request) -> HttpResponse:
    if _is_api(request):
        return error_response(500)
    # No RequestContext: the context processors read the database, which may be what failed.
    try:
        html = loader.get_template("500.html").render(
            {
                "title": "Something went wrong",
                "request_id": getattr(request, "request_id", ""),
                "ops_channel": settings.SLACK_OPS_CHANNEL,
            }
        )
    except Exception:  # the last resort must not fail in turn
        logger.exception("the 500 page itself failed")
        html = "<h1>Server error</h1><p>Something went wrong. Ask in #ops.</p>"
    return HttpResponseServerError(html)
