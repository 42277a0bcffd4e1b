"""The Verify page: auditors and admins run the verification as a background task, read
its result (last anchor, unprotected window, the first entry affected) and take the
offline verifier, the public keys and the checkpoints away; each step audited."""

import json

import pytest
from django.db import connection

import audit
import audit.verify_export
from audit import tasks
from audit.checkpoints import checkpoint_record
from audit.models import AuditCheckpoint, AuditEntry, AuditVerifyRun
from audit.signing import public_key_text, signing_key

pytestmark = pytest.mark.django_db

PAGE = "/admin/audit/auditentry/verify/"
VERIFIER = f"{PAGE}export/verify_export.py"
KEYS = f"{PAGE}export/public-keys.json"
CHECKPOINTS = f"{PAGE}export/checkpoints.jsonl"


@pytest.fixture
def run_tasks_now(monkeypatch, django_capture_on_commit_callbacks):
    """django-q2 in sync mode: the task queued on commit runs at once, here."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def sealed_log(file_anchors):
    for i in range(3):
        audit.record(action="test.verify-page", target_id=str(i))
        tasks.seal()
    return AuditEntry.objects.order_by("id").last()


def test_auditor_runs_the_verification_and_reads_the_result(
    client_for, auditor_user, sealed_log, run_tasks_now
):
    client = client_for(auditor_user)
    page = client.get(PAGE)
    assert page.status_code == 200 and "No verification has run yet" in page.content.decode()
    newer = audit.record(action="test.after-the-last-anchor")
    with run_tasks_now():
        response = client.post(PAGE)
    assert response.status_code == 302 and response["Location"] == PAGE
    run = AuditVerifyRun.objects.get()
    assert run.status == AuditVerifyRun.OK and run.requested_by == auditor_user
    html = client.get(PAGE).content.decode()
    assert f"Verification #{run.id}" in html and "Verified" in html
    assert "checkpoint(s), each present and identical in the database" in html
    assert "last anchor: checkpoint #3 at entry" in html
    # The newer entry, and the request's own audit entry.
    assert f"NOT YET PROTECTED by an anchor: entries {newer.id}-{newer.id + 1}" in html
    mine = AuditEntry.objects.filter(target_type="audit.auditverifyrun", target_id=str(run.id))
    actions = list(mine.order_by("id").values_list("action", "actor"))
    assert actions == [
        ("audit.verify_requested", auditor_user.pk),
        ("audit.verified", auditor_user.pk),
    ]


def test_the_page_names_the_first_entry_affected(client_for, admin_user, sealed_log, run_tasks_now):
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER USER")
        cursor.execute(
            "UPDATE audit_auditentry SET actor_name = 'x' WHERE id = %s", [sealed_log.id]
        )
        cursor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER USER")
    client = client_for(admin_user)
    with run_tasks_now():
        client.post(PAGE)
    html = client.get(PAGE).content.decode()
    assert "Tampering found" in html and f"BROKEN at entry {sealed_log.id}: hash" in html
    assert AuditVerifyRun.objects.get().status == AuditVerifyRun.BROKEN
    flagged = AuditEntry.objects.get(action="audit.verify_failed")
    assert flagged.data["problem"]["entry_id"] == sealed_log.id


def test_one_verification_at_a_time(client_for, auditor_user, sealed_log):
    client = client_for(auditor_user)
    client.post(PAGE)  # queued: the test transaction never commits, so no worker takes it
    response = client.post(PAGE, follow=True)
    assert "is already under way" in response.content.decode()
    assert AuditVerifyRun.objects.count() == 1
    # The result part refreshes itself in place (portal.js), no meta refresh reloading the page.
    html = response.content.decode()
    assert 'id="verify-live" data-portal-refresh="' in html and 'http-equiv="refresh"' not in html


def test_downloads_for_offline_verification_are_audited(client_for, auditor_user, sealed_log):
    client = client_for(auditor_user)
    script = client.get(VERIFIER)
    assert script.status_code == 200
    with open(audit.verify_export.__file__, "rb") as handle:
        assert b"".join(script.streaming_content) == handle.read()
    keys = json.loads(client.get(KEYS).content)
    assert keys == {"test-1": public_key_text(signing_key()[1])}
    lines = b"".join(client.get(CHECKPOINTS).streaming_content).decode().splitlines()
    expected = [checkpoint_record(c) for c in AuditCheckpoint.objects.order_by("number")]
    assert [json.loads(line) for line in lines] == expected and len(expected) == 3
    audited = AuditEntry.objects.filter(actor=auditor_user).values_list("action", flat=True)
    assert sorted(audited) == [
        "audit.checkpoints_exported",
        "audit.public_keys_exported",
        "audit.verifier_downloaded",
    ]


@pytest.mark.parametrize("persona", ["support_user", "ops_user"])
def test_without_the_verify_permission_nothing_is_shown(request, client_for, persona, sealed_log):
    user = request.getfixturevalue(persona)
    client = client_for(user)
    for url in (PAGE, VERIFIER, KEYS, CHECKPOINTS):
        assert client.get(url).status_code == 403
    assert client.post(PAGE).status_code == 403
    assert not AuditVerifyRun.objects.exists()


def test_downloads_accept_only_get(client_for, auditor_user, sealed_log):
    client = client_for(auditor_user)
    for url in (VERIFIER, KEYS, CHECKPOINTS):
        assert client.post(url).status_code == 405
    assert client.put(PAGE).status_code == 405


def test_the_audit_log_links_to_the_page(client_for, auditor_user, sealed_log):
    client = client_for(auditor_user)
    assert f'href="{PAGE}"' in client.get("/admin/audit/auditentry/").content.decode()
    assert f'href="{PAGE}"' in client.get("/admin/audit/auditentry/browse/").content.decode()


def test_a_run_whose_worker_stopped_does_not_block_the_next(
    client_for, auditor_user, sealed_log, settings
):
    from datetime import timedelta

    from django.utils import timezone

    client = client_for(auditor_user)
    client.post(PAGE)
    AuditVerifyRun.objects.update(
        status=AuditVerifyRun.RUNNING,
        requested_at=timezone.now() - timedelta(seconds=settings.Q_CLUSTER["retry"] + 1),
    )
    html = client.get(PAGE).content.decode()
    assert "never finished" in html and "data-portal-refresh" not in html
    client.post(PAGE)
    assert AuditVerifyRun.objects.count() == 2
