"""Retention: the oldest entries move to a verified file; what remains still verifies.

With the production roles in place (the archive function owned by the NOLOGIN archiver
role): without them nothing can delete rows (tests/audit/test_append_only.py)."""

import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

import audit
import audit.verify_export
from audit.checkpoints import audit_checkpoint_create
from audit.models import AuditCheckpoint, AuditEntry, AuditSeal
from audit.sealing import audit_seal
from audit.verification import audit_verify

pytestmark = pytest.mark.django_db(transaction=True)


def _entries(n):
    return [audit.record(action="test.archive", target_id=str(i), data={"i": i}) for i in range(n)]


@pytest.fixture
def chain(roles):
    made = _entries(8)
    audit_seal()
    audit_checkpoint_create()
    return made


def test_archive_moves_a_verified_prefix_out(chain, tmp_path, capsys):
    out = tmp_path / "archive.jsonl"
    through = chain[4].id
    call_command("archive_audit", through_id=through, out=str(out))
    assert "archived" in capsys.readouterr().out
    assert not AuditEntry.objects.filter(id__lte=through).exists()
    assert not AuditSeal.objects.filter(entry_id__lte=through).exists()
    checked = subprocess.run(
        [sys.executable, audit.verify_export.__file__, str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0 and "contiguous" in checked.stdout, checked.stdout
    recorded = AuditEntry.objects.get(action="audit.archived")
    assert recorded.data["through_id"] == through
    cut = AuditCheckpoint.objects.get(kind=AuditCheckpoint.ARCHIVE, entry_id=through)
    assert cut.number == 2 and cut.count == 5  # numbered after the head checkpoint #1
    audit_seal()
    result = audit_verify()
    assert result.ok, result.problem
    assert result.checked == AuditEntry.objects.count()


def test_removing_old_entries_without_the_archive_command_is_detected(chain):
    from django.db import connection

    with connection.cursor() as cursor:  # the owner, triggers off: no signed archive cut
        for table in ("audit_auditentry", "audit_auditseal"):
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        cursor.execute("DELETE FROM audit_auditseal WHERE entry_id <= %s", [chain[2].id])
        cursor.execute("DELETE FROM audit_auditentry WHERE id <= %s", [chain[2].id])
        for table in ("audit_auditentry", "audit_auditseal"):
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    problem = audit_verify().problem
    assert problem.entry_id == chain[3].id and problem.what == "prev_hash"


def test_archive_refuses_a_broken_chain(chain, tmp_path):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER USER")
        cursor.execute("UPDATE audit_auditentry SET action = 'x' WHERE id = %s", [chain[1].id])
        cursor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER USER")
    with pytest.raises(CommandError, match="does not verify"):
        call_command("archive_audit", through_id=chain[4].id, out=str(tmp_path / "a.jsonl"))
    assert AuditEntry.objects.filter(id=chain[0].id).exists()


def test_archive_refuses_unsealed_or_existing_file(chain, tmp_path):
    late = audit.record(action="test.late")
    with pytest.raises(CommandError, match="not a sealed entry"):
        call_command("archive_audit", through_id=late.id, out=str(tmp_path / "a.jsonl"))
    existing = tmp_path / "b.jsonl"
    existing.write_text("keep me")
    with pytest.raises(CommandError, match="exists"):
        call_command("archive_audit", through_id=chain[2].id, out=str(existing))
    assert existing.read_text() == "keep me"


def test_archiving_through_the_head_keeps_the_chain_going(chain, tmp_path):
    call_command("archive_audit", through_id=chain[-1].id, out=str(tmp_path / "all.jsonl"))
    assert not AuditSeal.objects.exists()  # every seal went; the cut is the chain's head now
    _entries(2)
    audit_seal()
    audit_checkpoint_create()
    result = audit_verify()
    assert result.ok, result.problem
    assert result.checked == 3  # the audit.archived entry and the two new ones
    first = AuditSeal.objects.order_by("entry_id").first()
    assert first.prev_hash == AuditCheckpoint.objects.get(kind=AuditCheckpoint.ARCHIVE).hash
