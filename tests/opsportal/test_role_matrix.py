"""Each role sees and changes exactly what ARCHITECTURE.md's role table says."""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

ROLES = ["support", "ops", "admin", "auditor"]

# changelist → which roles may view it
VIEW = {
    "vouchers_voucher": {"support", "ops", "admin", "auditor"},
    "vouchers_station": {"support", "ops", "admin", "auditor"},
    "vouchers_voucherevent": {"support", "ops", "admin", "auditor"},
    "campaigns_campaign": {"support", "ops", "admin", "auditor"},
    "campaigns_target": {"support", "ops", "admin", "auditor"},
    "audit_auditentry": {"ops", "admin", "auditor"},
    "staff_apitoken": {"admin"},
    "staff_rolerequest": {"admin"},
    "auth_user": {"admin"},
    "auth_group": {"admin"},
    # The task queue: nobody with a role (superusers read it; nobody changes it).
    "django_q_schedule": set(),
    "django_q_failure": set(),
}

# permission → which roles hold it
HOLD = {
    "vouchers.operate_voucher": {"ops", "admin"},
    "campaigns.control_campaign": {"ops", "admin"},
    "campaigns.change_campaign": {"ops", "admin"},
    "vouchers.change_station": {"admin"},
    "auth.change_user": {"admin"},
    "staff.grant_admin_role": {"admin"},
    "auth.change_group": set(),
    "auth.change_permission": set(),
    "audit.export_auditentry": {"auditor"},
    "audit.verify_auditlog": {"auditor", "admin"},
}


@pytest.fixture
def personas(make_staff):
    return {role: make_staff(role) for role in ROLES}


@pytest.mark.parametrize("changelist", VIEW)
def test_changelists_are_visible_only_to_their_roles(personas, client, changelist):
    url = reverse(f"admin:{changelist}_changelist")
    for role, user in personas.items():
        client.force_login(user)
        status = client.get(url).status_code
        expected = 200 if role in VIEW[changelist] else 403
        assert status == expected, f"{role} on {changelist}: {status}"


@pytest.mark.parametrize("perm", HOLD)
def test_permissions_per_role(personas, perm):
    holders = {role for role, user in personas.items() if user.has_perm(perm)}
    assert holders == HOLD[perm]


def test_support_cannot_void_and_auditor_cannot_operate(personas):
    assert not personas["support"].has_perm("vouchers.operate_voucher")
    assert not personas["auditor"].has_perm("vouchers.operate_voucher")


def test_auditor_can_change_nothing_anywhere_in_the_admin(personas):
    request = RequestFactory().get("/admin/")
    request.user = personas["auditor"]
    for model, model_admin in admin.site._registry.items():
        name = model._meta.label
        assert not model_admin.has_add_permission(request), f"auditor can add {name}"
        assert not model_admin.has_change_permission(request), f"auditor can change {name}"
        assert not model_admin.has_delete_permission(request), f"auditor can delete {name}"
        if model_admin.has_view_permission(request):
            assert not model_admin.get_actions(request), f"auditor has actions on {name}"


def test_auditor_post_to_a_change_form_is_refused(personas, client, campaign_for_roles):
    client.force_login(personas["auditor"])
    url = reverse("admin:campaigns_campaign_change", args=[campaign_for_roles.pk])
    response = client.post(
        url, {"name": "renamed", "template": "x", "throttle_per_minute": 1, "time_zone": "UTC"}
    )
    assert response.status_code == 403
    campaign_for_roles.refresh_from_db()
    assert campaign_for_roles.name == "Promo"


def test_ops_may_edit_a_campaign_but_support_may_not(personas, client, campaign_for_roles):
    url = reverse("admin:campaigns_campaign_change", args=[campaign_for_roles.pk])
    form = {
        "name": "Promo (edited)",
        "template": "promo_v1",
        "template_language": "en",
        "template_variables": "{}",
        "throttle_per_minute": 120,
        "time_zone": "Africa/Kigali",
    }
    client.force_login(personas["support"])
    assert client.post(url, form).status_code == 403
    client.force_login(personas["ops"])
    response = client.post(url, form)
    assert response.status_code == 302, response.content[:2000]
    campaign_for_roles.refresh_from_db()
    assert (campaign_for_roles.name, campaign_for_roles.throttle_per_minute) == (
        "Promo (edited)",
        120,
    )


def test_non_staff_users_cannot_enter_the_admin(db, client, django_user_model):
    user = django_user_model.objects.create_user("outsider", password="x-long-password-1")
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.fixture
def campaign_for_roles(db):
    from campaigns.models import Campaign

    return Campaign.objects.create(name="Promo", template="promo_v1")
