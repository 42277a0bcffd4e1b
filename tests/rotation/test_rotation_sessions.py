"""Step 7: every staff session, the operator's included, is gone after the rotation."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from tests.rotation.rotation_support import *  # noqa: F403  (fixtures)

pytestmark = pytest.mark.django_db


def test_sessions_are_invalid_after_step_7(world, rotate, admin_user, second_admin, ops_user):
    index = reverse("admin:index")
    clients = {}
    for user in (admin_user, second_admin, ops_user):
        clients[user.username] = Client()
        clients[user.username].force_login(user)
        assert clients[user.username].get(index).status_code == 200
    assert Session.objects.count() == 3

    run = rotate()

    assert run.status == "succeeded", run.error
    assert run.steps.get(number=7).data == {"sessions_deleted": 3}
    assert not Session.objects.exists()
    for name, client in clients.items():
        response = client.get(index)
        assert response.status_code == 302 and "/login/" in response["Location"], name
