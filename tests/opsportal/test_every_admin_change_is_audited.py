"""Every registered ModelAdmin that lets anyone change an object: a change made through its
page writes exactly ONE audit entry, in the same transaction, with the field-by-field diff
(who, which object, before/after). One mechanism for the whole site, so a new admin class
is covered the day it is registered; third-party ones (auth, django-q2) included."""

import pytest
from django.contrib import admin
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEntry
from tests.opsportal.admin_forms import admin_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(django_user_model, db):
    return django_user_model.objects.create_superuser("root", "root@example.com", "a-long-pw-123")


@pytest.fixture
def objects(station_with_token, admin_user, ops_user):
    """One object of each kind whose admin may change it."""
    from campaigns.models import Campaign
    from rotation.models import SupabaseProject
    from staff.services import api_token_create

    Campaign.objects.create(name="Promo", template="promo_v1")
    SupabaseProject.objects.create(
        environment="staging",
        project_ref="stgref",
        primary_owner="Owner",
        service_role_secret_id="stg/easymo/supabase/service-role",
    )
    api_token_create(user=ops_user, name="script")


def _changeable(superuser):
    request = RequestFactory().get("/")
    request.user = superuser
    for model, model_admin in admin.site._registry.items():
        obj = model._default_manager.order_by("pk").first()
        if obj is not None and model_admin.has_change_permission(request, obj):
            yield model, model_admin, obj


def _edited(name: str, value: str) -> str:
    if not value:
        return "edited"
    return f"x{value}" if "@" in value else f"{value} (edited)"


def test_the_walk_covers_the_changeable_admins(objects, superuser):
    labels = {model._meta.label_lower for model, _, _ in _changeable(superuser)}
    assert {
        "auth.user",
        "campaigns.campaign",
        "vouchers.station",
        "rotation.supabaseproject",
    } <= labels


def test_a_change_through_any_admin_page_is_one_audit_entry_with_the_diff(
    objects, superuser, client
):
    client.force_login(superuser)
    problems, walked = [], 0
    request = RequestFactory().get("/")
    request.user = superuser
    for model, model_admin, obj in _changeable(superuser):
        opts = model._meta
        url = f"/admin/{opts.app_label}/{opts.model_name}/{obj.pk}/change/"
        data, editable = admin_form(client.get(url).content.decode(), f"{opts.model_name}_form")
        # The object's own form fields (a page may carry other inputs, e.g. a test send).
        own = model_admin.get_form(request, obj, change=True).base_fields
        editable = [name for name in editable if name in own]
        if not editable:
            continue  # nothing a person can type into: the page only shows the object
        walked += 1
        for field in editable:
            before = data[field][0]
            posted = {**data, field: [_edited(field, before)], "_save": ["Save"]}
            start = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
            with CaptureQueriesContext(connection) as queries:
                response = client.post(url, posted)
            if response.status_code != 302:
                continue  # the edit did not validate (a code, a format): try the next field
            entries = list(AuditEntry.objects.filter(id__gt=start))
            where = f"{opts.label_lower}.{field}"
            if len(entries) != 1:
                problems.append(f"{where}: {[e.action for e in entries]}")
                break
            [entry] = entries
            expected = {field: {"before": before, "after": _edited(field, before)}}
            if (entry.action, entry.actor, entry.target_id) != (
                "admin.changed",
                superuser,
                str(obj.pk),
            ) or entry.data["changes"] != expected:
                problems.append(f"{where}: {entry.action} {entry.data}")
            # Written in the save's own transaction: between its SAVEPOINT and RELEASE.
            sql = [q["sql"] for q in queries.captured_queries]
            audit_at = next(i for i, q in enumerate(sql) if "audit_auditentry" in q)
            if not any(q.startswith("SAVEPOINT") for q in sql[:audit_at]):
                problems.append(f"{where}: audited outside the save's transaction")
            break
        else:
            problems.append(f"{opts.label_lower}: no field could be changed")
    assert walked >= 4
    assert not problems, "\n".join(problems)


def test_saving_without_a_change_writes_nothing(objects, superuser, client):
    from campaigns.models import Campaign

    campaign = Campaign.objects.get()
    client.force_login(superuser)
    url = f"/admin/campaigns/campaign/{campaign.pk}/change/"
    data, _ = admin_form(client.get(url).content.decode(), "campaign_form")
    assert client.post(url, {**data, "_save": ["Save"]}).status_code == 302
    assert not AuditEntry.objects.filter(action="admin.changed").exists()


def test_a_delete_through_the_admin_is_audited_with_what_was_deleted(admin_user, superuser, client):
    """Clearing a lockout (django-axes' page, superusers only) is a delete like any other."""
    from axes.models import AccessAttempt

    login = "/admin/login/"
    for _ in range(2):
        client.post(login, {"username": "ada-admin", "password": "wrong-1234567"})
    attempt = AccessAttempt.objects.get()
    client.force_login(superuser)
    url = f"/admin/axes/accessattempt/{attempt.pk}/delete/"
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not AccessAttempt.objects.exists()
    entry = AuditEntry.objects.get(action="admin.deleted")
    assert entry.actor == superuser and entry.target_id == str(attempt.pk)
    assert entry.data["fields"]["username"] == "ada-admin"


def test_a_bulk_delete_is_one_entry_per_object(admin_user, superuser, client):
    from axes.models import AccessAttempt

    for ip in ("10.0.0.1", "10.0.0.2"):
        client.post(
            "/admin/login/", {"username": "ada-admin", "password": "wrong-1234567"}, REMOTE_ADDR=ip
        )
    ids = list(AccessAttempt.objects.values_list("pk", flat=True))
    assert len(ids) == 2
    client.force_login(superuser)
    response = client.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )
    assert response.status_code == 302
    deleted = AuditEntry.objects.filter(action="admin.deleted")
    assert sorted(int(e.target_id) for e in deleted) == sorted(ids)


def test_secret_and_hash_fields_are_masked_in_the_diff(superuser, rf):
    from audit.admin_changes import AuditedChangesMixin

    class Form:
        changed_data = ["token_hash", "password", "name"]
        cleaned_data = {"token_hash": "ab" * 32, "password": "hunter2-long", "name": "new"}
        fields = dict.fromkeys(changed_data)

        def __getitem__(self, name):
            return type("Bound", (), {"initial": "old"})()

    request = rf.post("/")
    request.user = superuser
    mixin = AuditedChangesMixin()
    mixin._audit(request, superuser, "admin.changed", {"changes": _diff(Form())})
    entry = AuditEntry.objects.get(action="admin.changed")
    assert entry.data["changes"]["token_hash"] == "[redacted]"
    assert entry.data["changes"]["password"] == "[redacted]"
    assert entry.data["changes"]["name"] == {"before": "old", "after": "new"}


def _diff(form):
    from audit.admin_changes import form_changes

    return form_changes(form, add=False)
