"""The permission matrix: every URL pattern and every admin action × every role.

URLs come from walking the resolver and admin actions from the admin site's registry, so a
new view or action is covered the day it is added. For each of support, ops, admin,
auditor and anonymous:
- no URL answers 5xx, to GET or to an empty POST;
- anonymous is refused everywhere except the few public URLs (login, health, schema);
- an admin model page answers 200 exactly when that ModelAdmin grants the permission,
  else 403;
- the auditor's requests write nothing (no INSERT/UPDATE/DELETE outside bookkeeping);
- an admin action runs only for roles holding its permissions.
"""

import re
from functools import wraps

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.options import ModelAdmin
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

ROLES = ["support", "ops", "admin", "auditor", "anonymous"]
# Open to anyone: login and logout, the load balancer's health check, the station API schema,
# and the root redirect to the admin; PagerDuty's webhook, where the body's signature decides
# (tests/incidents/test_pagerduty_webhook.py).
PUBLIC = {"", "healthz", "admin:login", "admin:logout", "api-schema", "pagerduty-webhook"}
# Tables that may be written when someone merely calls a URL (their session, the audit
# of a refusal, login bookkeeping, cached probe results, the record of a verification of
# the audit log, which reads the log and changes nothing; the count of refused webhook
# deliveries).
BOOKKEEPING_SQL = re.compile(
    r'"(django_session|audit_auditentry|axes_\w+|integrations_proberesult|django_cache\w*'
    r"|audit_auditverifyrun|incidents_webhookrefusal)\""
)
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
# Empty POSTs go everywhere for the roles that are refused most; for ops and admin an empty
# POST would run real operations, so their POST side is covered by the action matrix below
# and each app's own tests.
POST_ROLES = {"anonymous", "support", "auditor"}
SAMPLE_VALUES = {"op": "void", "action": "stop", "fmt": "csv", "step_key": "update_envs"}
KWARG_MODELS = {
    "run_id": "incidents.steprun",
    "entry_id": "audit.auditentry",
    "content_type_id": "contenttypes.contenttype",
}
ADMIN_MODEL_VIEW = re.compile(r"^admin:(\w+?)_(\w+)_(changelist|add|change|delete|history)$")
# Pages that are not a model's standard page, and the roles each lets in (GET).
CUSTOM_PAGES = {
    # The admin-role request page: admins only (its POST, the decision, is the second admin's).
    "admin:staff_rolerequest_decide": {"admin"},
    # Another person's password: nobody (the sample account is not the caller's own).
    "admin:auth_user_password_change": set(),
}


def _walk(patterns, prefix="", namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = ":".join(filter(None, [namespace, p.namespace or ""]))
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            name = f"{namespace}:{p.name}" if namespace and p.name else (p.name or "")
            yield prefix + str(p.pattern), name


def _all_routes() -> list[tuple[str, str]]:
    routes = []
    for route, name in _walk(get_resolver().url_patterns):
        if "(?P<url>" in route:  # the admin's catch-all: one sample is enough
            routes.append(("admin/no-such-page/", "admin:catch_all"))
        elif "(?P<app_label>" in route:
            labels = re.search(r"\(\?P<app_label>([^)]*)\)", route).group(1).split("|")
            routes += [(f"admin/{label}/", name) for label in labels]
        else:
            routes.append((route, name))
    return routes


ROUTES = _all_routes()


def _model_for(route: str, kwarg: str):
    if kwarg in KWARG_MODELS:
        return apps.get_model(KWARG_MODELS[kwarg])
    if kwarg.endswith("_id") and kwarg != "object_id":
        for model in apps.get_models():
            if model._meta.model_name == kwarg[:-3]:
                return model
    m = re.match(r"^admin/(\w+)/(\w+)/", route)
    if m:
        try:
            return apps.get_model(m.group(1), m.group(2))
        except LookupError:
            return None
    m = re.match(r"^api/(\w+?)s/", route)  # api/incidents/<pk>, api/campaigns/<...>
    if m:
        return next((x for x in apps.get_models() if x._meta.model_name == m.group(1)), None)
    return None


def _concrete(route: str, world: dict) -> str:
    def value(match: re.Match) -> str:
        kwarg = match.group("name")
        if kwarg == "content_type_id":
            return str(ContentType.objects.get_for_model(world["incident"].__class__).pk)
        if route.startswith("admin/r/") and kwarg == "object_id":
            return str(world["incident"].pk)
        if kwarg in SAMPLE_VALUES:
            return SAMPLE_VALUES[kwarg]
        model = _model_for(route, kwarg)
        obj = model._default_manager.order_by("pk").first() if model else None
        return str(obj.pk) if obj else "999999"

    return "/" + re.sub(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>", value, route)


@pytest.fixture
def world(make_staff, station_with_token, voucher_factory, admin_user):
    """One object of most kinds, so object pages and actions have something to act on."""
    from campaigns.models import Campaign, Target
    from incidents.services import Impacted, incident_open, step_run_request
    from rotation.models import SupabaseProject
    from rotation.services import rotation_params, rotation_prepare
    from staff.grants import role_request_create
    from staff.services import api_token_create

    personas = {role: make_staff(role, f"matrix-{role}") for role in ROLES[:4]}
    personas["anonymous"] = None
    voucher = voucher_factory()
    campaign = Campaign.objects.create(name="matrix", template="t")
    Target.objects.create(campaign=campaign, phone="+250788000001")
    incident, _ = incident_open(
        runbook_key="credential_leak",
        actor=admin_user,
        impacted=[Impacted("vouchers.voucher", voucher.pk)],
    )
    project = SupabaseProject.objects.create(
        environment="staging",
        project_ref="stgref",
        primary_owner="Owner",
        service_role_secret_id="stg/easymo/supabase/service-role",
    )
    rotation = rotation_prepare(
        incident=incident,
        project=project,
        leaked_key="sb_secret_matrix0123456789",
        leaked_key_id="key-1",
        actor=admin_user,
    )
    step_run_request(
        step=incident.steps.get(key="update_envs"),
        actor=admin_user,
        params=rotation_params(rotation),  # an approval binds a rotation that exists
        dry_run=False,
    )
    api_token_create(user=admin_user, name="matrix")
    role_request_create(user=personas["ops"], role="admin", actor=admin_user)
    return {"personas": personas, "incident": incident}


def _client(user) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def _admin_oracle(name: str, user, request_factory) -> int | None:
    """200 (let in: the page, or a redirect to where the work happens) or 403, as the
    ModelAdmin's own permission methods say, for model pages."""
    m = ADMIN_MODEL_VIEW.match(name)
    if not m or user is None:
        return None
    model = next(
        (
            x
            for x in admin.site._registry
            if f"{x._meta.app_label}_{x._meta.model_name}" == f"{m.group(1)}_{m.group(2)}"
        ),
        None,
    )
    if model is None:
        return None
    model_admin = admin.site._registry[model]
    request = request_factory.get("/")
    request.user = user
    obj = model._default_manager.order_by("pk").first()
    allowed = {
        "changelist": model_admin.has_view_or_change_permission(request),
        "add": model_admin.has_add_permission(request),
        "change": model_admin.has_view_or_change_permission(request, obj),
        "history": model_admin.has_view_or_change_permission(request, obj),
        "delete": model_admin.has_delete_permission(request, obj),
    }[m.group(3)]
    if m.group(3) in ("change", "history", "delete") and obj is None:
        return None
    return 200 if allowed else 403


@pytest.mark.parametrize("role", ROLES)
def test_every_url_for_every_role(role, world):
    user = world["personas"][role]
    factory = RequestFactory()
    problems = []
    client = _client(user)
    for route, name in ROUTES:
        url = _concrete(route, world)
        for method in ("get", "post") if role in POST_ROLES else ("get",):
            if name in ("admin:logout", "admin:login"):
                client = _client(user)  # these change who is logged in: use a throwaway
            with CaptureQueriesContext(connection) as queries:
                response = getattr(client, method)(url)
            status, where = response.status_code, f"{role} {method.upper()} {url} ({name})"
            if name in ("admin:logout", "admin:login"):
                client = _client(user)
            if status >= 500:
                problems.append(f"{where}: {status}")
                continue
            if role == "anonymous" and name not in PUBLIC:
                location = response.get("Location", "")
                refused = status in (401, 403, 404, 405) or (
                    status in (301, 302) and "/login/" in location
                )
                if not refused:
                    problems.append(f"{where}: anonymous got {status} {location}")
            expected = _admin_oracle(name, user, factory) if method == "get" else None
            if method == "get" and user is not None and name in CUSTOM_PAGES:
                expected = 200 if role in CUSTOM_PAGES[name] else 403
            to_login = status in (301, 302) and "/login/" in response.get("Location", "")
            if expected == 403 and status in (301, 302) and not to_login:
                # A page that forwards elsewhere (e.g. "add" → the open-incident form):
                # the page it forwards to must refuse.
                status = client.get(response["Location"]).status_code
            if expected == 403 and status != 403:
                problems.append(f"{where}: {status}, expected 403")
            if expected == 200 and (status in (401, 403, 404) or to_login):
                problems.append(f"{where}: {status}, expected to be let in")
            if role == "auditor":
                writes = [
                    q["sql"][:120]
                    for q in queries.captured_queries
                    if WRITE.match(q["sql"]) and not BOOKKEEPING_SQL.search(q["sql"])
                ]
                if writes:
                    problems.append(f"{where}: the auditor wrote {writes}")
    assert not problems, "\n".join(problems)


def _admin_actions() -> list[tuple[str, str]]:
    found = []
    for model, model_admin in admin.site._registry.items():
        for _func, name, _ in model_admin._get_base_actions():
            found.append((model._meta.label_lower, name))
    return sorted(found)


@pytest.mark.parametrize("role", ROLES)
def test_every_admin_action_for_every_role(role, world, monkeypatch):
    user = world["personas"][role]
    called: list[str] = []
    original = ModelAdmin.get_actions

    def spying_get_actions(self, request):
        actions = original(self, request)
        return {
            key: (_spy(func, key, called), name, desc)
            for key, (func, name, desc) in actions.items()
        }

    monkeypatch.setattr(ModelAdmin, "get_actions", spying_get_actions)
    factory = RequestFactory()
    problems = []
    for label, action in _admin_actions():
        model = apps.get_model(label)
        model_admin = admin.site._registry[model]
        obj = model._default_manager.order_by("pk").first()
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        may = False
        if user is not None:
            request = factory.get(url)
            request.user = user
            may = action in original(model_admin, request) and (
                model_admin.has_view_or_change_permission(request)
            )
        called.clear()
        response = _client(user).post(
            url, {"action": action, "_selected_action": [obj.pk if obj else 999999], "index": 0}
        )
        where = f"{role} action {label}.{action}"
        if response.status_code >= 500:
            problems.append(f"{where}: {response.status_code}")
        if not may and called:
            problems.append(f"{where}: ran without the permission")
        if may and obj is not None and action not in called:
            problems.append(f"{where}: allowed but did not run ({response.status_code})")
    assert not problems, "\n".join(problems)


def _spy(func, key, called):
    @wraps(func)
    def spy(*args, **kwargs):
        called.append(key)
        return func(*args, **kwargs)

    return spy


def test_the_matrix_sees_the_sensitive_urls():
    """Guards the walker itself: if these vanish from the walk, the matrix is blind."""
    names = {name for _, name in ROUTES}
    for expected in [
        "admin:rotation_rotationrun_start",
        "admin:rotation_supabaseproject_add",
        "admin:incidents_incident_act",
        "staff-api:approval-decide",
        "admin:audit_auditentry_verify",
        "admin:login",
        "admin:staff_rolerequest_decide",
        "admin:auth_user_password_change",
        "admin:django_q_schedule_add",
        "admin:auth_group_change",
    ]:
        assert expected in names
    assert len(_admin_actions()) >= 3
