"""A planted, recognisable key goes through the whole rotation — typed into the admin form,
read from Secrets Manager, written to Vercel and Supabase — and appears nowhere we keep:
logs, audit, timeline, any database row, HTML pages, django-q2 task payloads."""

import logging

import pytest
from django.apps import apps
from django.core import serializers
from django.urls import reverse
from django_q.conf import Conf
from django_q.models import OrmQ, Task
from django_q.signing import SignedPackage
from django_q.tasks import _sync

from incidents.models import Approval
from rotation.models import RotationRun
from tests.rotation.rotation_support import *  # noqa: F403  (fixtures)

pytestmark = pytest.mark.django_db


def _everything_in_the_database() -> str:
    dumps = []
    for model in apps.get_models():
        dumps.append(serializers.serialize("json", model._default_manager.all()))
    dumps += [repr(SignedPackage.loads(q.payload)) for q in OrmQ.objects.all()]
    dumps += [repr((t.func, t.args, t.kwargs, t.result, t.name)) for t in Task.objects.all()]
    return "\n".join(dumps)


def test_a_planted_key_appears_nowhere(
    world,
    leak_incident,
    admin_user,
    second_admin,
    client,
    caplog,
    capsys,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    caplog.set_level(logging.DEBUG)
    secrets = [world.leaked, world.new, world.leaked[-16:], world.new[-16:]]
    pages = []
    client.force_login(admin_user)
    start = reverse("admin:rotation_rotationrun_start", args=[leak_incident.pk])
    # A refused form first: the page must not echo the key back.
    refused = client.post(
        start,
        {"project": world.project.pk, "leaked_key": world.leaked, "leaked_key_id": "not valid!"},
    )
    assert refused.status_code == 200
    pages.append(refused.content.decode())
    response = client.post(
        start,
        {"project": world.project.pk, "leaked_key": world.leaked, "leaked_key_id": world.leaked_id},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    run = RotationRun.objects.get()
    approval = Approval.objects.get()

    client.force_login(second_admin)
    with django_capture_on_commit_callbacks(execute=True):
        decided = client.post(
            reverse("admin:incidents_incident_act", args=[leak_incident.pk]),
            {"op": "approve", "approval": approval.pk, "params_hash": approval.params_hash},
        )
    assert decided.status_code == 302
    queued = list(OrmQ.objects.all())
    assert len(queued) == 1
    payload = SignedPackage.loads(queued[0].payload)
    assert payload["func"] == "incidents.tasks.step_run_execute"
    assert list(payload["args"]) == [approval.runs.get().pk]  # an id, nothing else
    monkeypatch.setattr(Conf, "SYNC", True)  # in-process: keep the test's DB connection
    _sync(queued[0].payload)  # the package travels through a worker and the monitor
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert Task.objects.filter(func="incidents.tasks.step_run_execute").exists()

    client.force_login(admin_user)  # step 7 logged everyone out
    for url in [
        reverse("admin:rotation_rotationrun_change", args=[run.pk]),
        reverse("admin:rotation_rotationrun_changelist"),
        reverse("admin:incidents_incident_work", args=[leak_incident.pk]),
        reverse("admin:audit_auditentry_changelist"),
        reverse("admin:rotation_supabaseproject_changelist"),
    ]:
        page = client.get(url)
        assert page.status_code == 200, url
        pages.append(page.content.decode())
    assert any("Prepare the key rotation" in page for page in pages)  # the incident page
    logging.getLogger("test").warning("planted in a log line: %s", world.leaked)
    try:
        raise RuntimeError(f"planted in an exception: {world.new}")
    except RuntimeError:
        logging.getLogger("test").exception("boom")

    captured = capsys.readouterr()
    logs = "\n".join(
        [caplog.text, captured.out, captured.err]
        + [r.getMessage() + str(r.exc_text or "") for r in caplog.records]
    )
    stored = _everything_in_the_database()
    assert run.leaked_fingerprint in stored and run.new_fingerprint in stored  # the sanity check
    for secret in secrets:
        assert secret not in logs
        assert secret not in stored
        for page in pages:
            assert secret not in page
