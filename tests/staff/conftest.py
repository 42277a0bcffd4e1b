import pytest


@pytest.fixture
def superuser(django_user_model, db):
    """Made as `manage.py createsuperuser` makes one (the only way there is)."""
    return django_user_model.objects.create_superuser("root", "root@example.com", "a-long-pw-123")


@pytest.fixture
def account_form():
    """The POST body of an account's change form as the page would send it, plus `extra`."""

    def _form(user, **extra):
        data = {
            "username": user.username,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "role": user.groups.values_list("name", flat=True).first() or "",
        }
        if user.is_active:
            data["is_active"] = "on"
        data.update(extra)
        return data

    return _form


from tests.incidents.conftest import sync_tasks  # noqa: E402, F401
