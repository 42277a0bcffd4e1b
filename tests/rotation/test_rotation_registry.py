"""The Supabase projects registry: admins only, and names the services would refuse are
refused here first."""

import pytest
from django.urls import reverse

from rotation.models import SupabaseProject

pytestmark = pytest.mark.django_db

FORM = {
    "environment": "staging",
    "project_ref": "stgref",
    "primary_owner": "Eric Owner",
    "owner_email": "eric@example.com",
    "owner_slack": "U0ERIC",
    "service_role_secret_id": "stg/easymo/supabase/service-role",
    "vercel_project": "station-web",
    "vercel_env_vars": '["SUPABASE_SERVICE_ROLE_KEY"]',
    "vercel_targets": '["preview"]',
    "function_secret_names": '["SERVICE_ROLE_KEY"]',
    "edge_functions": '["voucher-png"]',
}


def test_only_admins_see_and_edit_the_registry(
    client_for, support_user, ops_user, auditor_user, admin_user
):
    url = reverse("admin:rotation_supabaseproject_changelist")
    for user in (support_user, ops_user, auditor_user):
        assert client_for(user).get(url).status_code == 403
    client = client_for(admin_user)
    assert client.get(url).status_code == 200
    response = client.post(reverse("admin:rotation_supabaseproject_add"), FORM)
    assert response.status_code == 302, response.content.decode()[:3000]
    project = SupabaseProject.objects.get()
    assert project.function_secret_names == ["SERVICE_ROLE_KEY"]
    assert project.vercel_targets == ["preview"]


def test_secret_names_the_management_api_refuses_are_refused(client_for, admin_user):
    response = client_for(admin_user).post(
        reverse("admin:rotation_supabaseproject_add"),
        {
            **FORM,
            "function_secret_names": '["SUPABASE_SERVICE_ROLE_KEY"]',
            "vercel_targets": '["staging"]',
        },
    )
    assert response.status_code == 200
    assert "may not start with SUPABASE_" in response.content.decode()
    assert "Vercel targets: invalid name(s): staging" in response.content.decode()
    assert not SupabaseProject.objects.exists()
