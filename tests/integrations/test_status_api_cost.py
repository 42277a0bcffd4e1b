"""The cached status costs no permission query: a staff token is one query (the token),
a session two (session, user); the roles' permissions come from memory."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from integrations import status
from staff.services import api_token_create

URL = "/api/integrations/status"
pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh_status(everything_up):
    return status.probes_run(forced=True)


@pytest.fixture
def support_token(support_user):
    return api_token_create(user=support_user).plaintext


def test_a_staff_token_request_is_one_query_and_reads_no_session(
    fresh_status, support_user, support_token, django_assert_num_queries
):
    client = Client(headers={"Authorization": f"Bearer {support_token}"})
    assert client.get(URL).status_code == 200  # warm: last-used written, permissions loaded
    with django_assert_num_queries(1):  # the token (with its user); no session, no permission
        response = client.get(URL)
    assert response.status_code == 200
    assert response.json() == fresh_status

    client.force_login(support_user)  # a session cookie along with the token: still unread
    with django_assert_num_queries(1):
        assert client.get(URL).status_code == 200


def test_a_session_request_is_two_queries(
    fresh_status, client_for, support_user, django_assert_num_queries
):
    client = client_for(support_user)
    client.get(URL)
    with django_assert_num_queries(2):  # the session and its user
        assert client.get(URL).status_code == 200


def test_a_change_to_a_roles_permissions_applies_on_the_next_request(
    fresh_status, support_user, support_token
):
    client = Client(headers={"Authorization": f"Bearer {support_token}"})
    view = Permission.objects.get(codename="view_proberesult")
    support = Group.objects.get(name="support")
    assert client.get(URL).status_code == 200

    support.permissions.remove(view)
    assert client.get(URL).status_code == 403
    support.permissions.add(view)
    assert client.get(URL).status_code == 200
    support_user.groups.clear()  # the user leaves the role
    assert client.get(URL).status_code == 403


def test_another_processs_change_reaches_this_one_through_the_shared_version(
    fresh_status, support_token, django_assert_num_queries
):
    from django.core.cache import cache

    from opsportal.permissions import VERSION_KEY

    client = Client(headers={"Authorization": f"Bearer {support_token}"})
    client.get(URL)
    # What another process's change leaves in the shared cache: a new version token.
    cache.set(VERSION_KEY, "changed-elsewhere", timeout=None)
    with django_assert_num_queries(3):  # the token, then the permissions reloaded (2)
        client.get(URL)
    with django_assert_num_queries(1):
        client.get(URL)
