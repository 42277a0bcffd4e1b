"""django-q2's admin pages are read-only for everyone, superusers included: nobody can add
a schedule with an arbitrary callable (e.g. `os.mkdir`) for the worker to run, change
one, or resubmit a stored task. Our schedules are defined in code (migrations)."""

import pytest
from django.urls import reverse
from django_q.models import OrmQ, Schedule

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("who", ["superuser", "admin_user"])
def test_a_schedule_with_an_arbitrary_callable_is_refused_and_nothing_runs(
    who, request, client, tmp_path, monkeypatch
):
    target = tmp_path / "made-by-the-worker"
    client.force_login(request.getfixturevalue(who))
    before = set(Schedule.objects.values_list("pk", flat=True))
    response = client.post(
        reverse("admin:django_q_schedule_add"),
        {
            "name": "innocent",
            "func": "os.mkdir",
            "args": repr(str(target)),
            "schedule_type": "O",
            "repeats": "-1",
            "next_run_0": "2020-01-01",
            "next_run_1": "00:00:00",
        },
    )
    assert response.status_code == 403
    assert set(Schedule.objects.values_list("pk", flat=True)) == before
    assert not Schedule.objects.filter(func="os.mkdir").exists()
    # The worker's scheduler, run now (sync: a due task would run here, in this process),
    # finds nothing due but our own schedules, which are pushed out of the way.
    from django_q.brokers import get_broker
    from django_q.conf import Conf
    from django_q.scheduler import scheduler

    monkeypatch.setattr(Conf, "SYNC", True)
    Schedule.objects.update(next_run="2999-01-01T00:00Z")
    scheduler(broker=get_broker())
    assert not OrmQ.objects.exists()
    assert not target.exists()


def test_existing_schedules_cannot_be_edited_or_deleted(superuser, client):
    client.force_login(superuser)
    schedule = Schedule.objects.get(name="staff.tick")
    change = reverse("admin:django_q_schedule_change", args=[schedule.pk])
    assert client.get(change).status_code == 200  # readable
    edited = {"name": "staff.tick", "func": "os.mkdir", "schedule_type": "I", "minutes": 1}
    assert client.post(change, edited).status_code == 403
    delete = reverse("admin:django_q_schedule_delete", args=[schedule.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    schedule.refresh_from_db()
    assert schedule.func == "staff.tasks.staff_tick"


@pytest.mark.parametrize("model", ["schedule", "success", "failure", "ormq"])
def test_no_task_page_offers_an_add_button_or_an_action(superuser, client, model):
    client.force_login(superuser)
    page = client.get(reverse(f"admin:django_q_{model}_changelist")).content.decode()
    assert f"/admin/django_q/{model}/add/" not in page
    assert 'name="action"' not in page  # no "resubmit", no "delete selected"
