"""The hash chain: sealing, verification, tampering found at the right entry."""

import logging

import pytest
from django.core.management import call_command
from django.db import connection

import audit
from audit import tasks
from audit.checkpoints import audit_checkpoint_create
from audit.models import AuditCheckpoint, AuditEntry, AuditSeal
from audit.sealing import audit_seal
from audit.verification import audit_verify


def _entries(n=5):
    return [
        audit.record(
            action="test.step",
            target_type="t.x",
            target_id=str(i),
            target_repr=f"thing {i}",
            data={"n": i, "ratio": 0.1 * i, "name": "é"},
        )
        for i in range(n)
    ]


def _sql(statement, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _tamper(statement, params=None):
    """What a database owner or superuser can do: switch the append-only triggers off,
    change rows (the anchored checkpoints catch it: tests/audit/test_tampering_detected.py)."""
    tables = ("audit_auditentry", "audit_auditseal", "audit_auditcheckpoint")
    for table in tables:
        _sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    _sql(statement, params)
    for table in tables:
        _sql(f"ALTER TABLE {table} ENABLE TRIGGER USER")


@pytest.mark.django_db
def test_sealed_chain_verifies_and_links_in_id_order():
    entries = _entries()
    result = audit_seal()
    assert result.sealed == 5 and result.head_id == entries[-1].id
    seals = list(AuditSeal.objects.order_by("entry_id"))
    assert [s.entry_id for s in seals] == [e.id for e in entries]
    assert all(b.prev_hash == a.hash for a, b in zip(seals, seals[1:], strict=False))
    verified = audit_verify()
    assert verified.ok and verified.checked == 5 and verified.head_hash == seals[-1].hash


@pytest.mark.django_db
def test_new_entries_stay_unsealed_until_the_sealer_runs():
    _entries(3)
    audit_seal()
    _entries(2)
    result = audit_verify()
    assert result.ok and result.checked == 3 and result.unsealed == 2
    assert audit_seal().sealed == 2
    assert audit_verify().checked == 5


@pytest.mark.django_db
def test_edited_entry_is_reported_at_its_id(capsys):
    entries = _entries()
    audit_seal()
    _tamper(
        "UPDATE audit_auditentry SET target_repr = 'nothing to see' WHERE id = %s", [entries[2].id]
    )
    result = audit_verify()
    assert result.problem.entry_id == entries[2].id
    assert result.problem.what == "hash"
    assert result.problem.found == AuditSeal.objects.get(entry_id=entries[2].id).hash
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_audit")
    assert exit_info.value.code == 1
    assert f"BROKEN at entry {entries[2].id}: hash expected" in capsys.readouterr().err


@pytest.mark.django_db
def test_edited_data_is_reported_at_its_id():
    entries = _entries()
    audit_seal()
    _tamper(
        """UPDATE audit_auditentry SET data = '{"n": 1, "ratio": 0.1, "name": "e"}'
               WHERE id = %s""",
        [entries[1].id],
    )
    assert audit_verify().problem.entry_id == entries[1].id


@pytest.mark.django_db
def test_removed_middle_entry_is_reported_at_the_next_id():
    entries = _entries()
    audit_seal()
    _tamper("DELETE FROM audit_auditentry WHERE id = %s", [entries[2].id])
    problem = audit_verify().problem
    assert problem.entry_id == entries[3].id and problem.what == "prev_hash"


@pytest.mark.django_db
def test_removed_tail_is_caught_by_the_signed_checkpoint():
    entries = _entries()
    audit_seal()
    checkpoint = audit_checkpoint_create()
    assert checkpoint.entry_id == entries[-1].id
    _tamper("DELETE FROM audit_auditseal WHERE entry_id >= %s", [entries[3].id])
    _tamper("DELETE FROM audit_auditentry WHERE id >= %s", [entries[3].id])
    result = audit_verify()
    assert result.problem.entry_id == entries[-1].id
    assert "checkpoint" in result.problem.what and result.problem.expected == checkpoint.hash


@pytest.mark.django_db
def test_forged_checkpoint_is_rejected():
    _entries()
    audit_seal()
    checkpoint = audit_checkpoint_create()
    forged = "A" * 86 + "=="  # a well-formed Ed25519 signature that is not ours
    _tamper(
        "UPDATE audit_auditcheckpoint SET signature = %s WHERE id = %s", [forged, checkpoint.id]
    )
    problem = audit_verify().problem
    assert "checkpoint #1 signature is invalid" in problem.what


@pytest.mark.django_db
def test_checkpoint_only_when_the_head_moved():
    _entries(2)
    audit_seal()
    assert audit_checkpoint_create() is not None
    assert audit_checkpoint_create() is None
    assert AuditCheckpoint.objects.count() == 1


@pytest.mark.django_db
def test_daily_verify_task_records_a_problem(caplog):
    entries = _entries()
    assert tasks.seal().startswith("sealed 5")
    assert tasks.verify().startswith("audit log verified")
    _tamper("UPDATE audit_auditentry SET actor_name = 'mallory' WHERE id = %s", [entries[0].id])
    with caplog.at_level(logging.ERROR, logger="audit.tasks"):
        assert "BROKEN" in tasks.verify()
    flagged = AuditEntry.objects.get(action="audit.verify_failed")
    assert flagged.data["problem"]["entry_id"] == entries[0].id
    assert any("found tampering" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db
def test_schedules_exist():
    from django_q.models import Schedule

    funcs = dict(Schedule.objects.values_list("func", "schedule_type"))
    assert funcs["audit.tasks.seal"] == Schedule.MINUTES
    assert funcs["audit.tasks.verify"] == Schedule.DAILY


@pytest.mark.django_db
def test_seal_audit_command(capsys):
    _entries(2)
    call_command("seal_audit")
    out = capsys.readouterr().out
    assert "sealed 2 entries" in out and "checkpoint #1 signed" in out
    call_command("verify_audit")
    assert "OK: 2 entries verified" in capsys.readouterr().out
