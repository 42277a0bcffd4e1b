"""What a database owner or superuser can still do (switch the triggers off, rewrite, let
the sealer re-chain, cut the tail with its checkpoints) and how `verify_audit` reports it:
exit status 1 naming the first entry affected, thanks to the anchors outside the database.
Each attack runs against both anchor stores (a folder; S3 with Object Lock on moto)."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

import audit
from audit import tasks
from audit.models import AuditAnchor, AuditEntry

pytestmark = pytest.mark.django_db

TABLES = ("audit_auditentry", "audit_auditseal", "audit_auditcheckpoint")


def _write(n: int, tag: str = "") -> list:
    return [
        audit.record(action="test.tamper", target_id=f"{tag}{i}", data={"i": i}) for i in range(n)
    ]


def _as_owner(*statements) -> None:
    """The owner/superuser: triggers off, the statements, triggers back on."""
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        for statement, params in statements:
            cursor.execute(statement, params)
        for table in TABLES:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def _verify() -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit", stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_a_clean_log_verifies_and_says_what_is_not_yet_protected(anchors):
    _write(3)
    tasks.seal()
    _write(2)
    last = tasks.seal()
    assert "checkpoint #2" in last and "1 anchored" in last
    anchored_head = AuditEntry.objects.order_by("-id").first().id
    newer = _write(2)
    call_command("seal_audit", no_checkpoint=True, stdout=io.StringIO())
    unsealed = _write(1)
    code, out, err = _verify()
    assert code == 0, err
    assert "OK: 7 entries verified" in out and "1 newer entries not sealed yet" in out
    assert "2 anchored checkpoint(s), each present and identical in the database" in out
    assert f"last anchor: checkpoint #2 at entry {anchored_head}, written " in out
    assert " ago)" in out
    assert (
        f"NOT YET PROTECTED by an anchor: entries {newer[0].id}-{unsealed[0].id} "
        f"(3 newer than entry {anchored_head}, 1 not sealed yet)"
    ) in out


def test_rewriting_an_entry_and_letting_the_sealer_rechain_is_detected(anchors):
    """Issue #14: delete the newest checkpoint, the seals and an entry, insert a rewritten
    entry under its id, let the sealer re-chain and sign again: every row in the database
    agrees with every other, and the anchor store disagrees."""
    _write(4)
    tasks.seal()  # checkpoint #1 at the 4th entry, anchored
    victim, *_ = _write(3, "b")
    tasks.seal()  # checkpoint #2, anchored
    assert _verify()[0] == 0
    _as_owner(
        ("DELETE FROM audit_auditcheckpoint WHERE number = 2", None),
        ("DELETE FROM audit_auditseal WHERE entry_id >= %s", [victim.id]),
        ("DELETE FROM audit_auditentry WHERE id = %s", [victim.id]),
        (
            "INSERT INTO audit_auditentry (id, at, actor_name, action, target_type, target_id,"
            " target_repr, data, request_id) VALUES (%s, %s, 'system', 'test.tamper', '',"
            " 'b0', '', '{\"i\": 1000}', '')",
            [victim.id, victim.at],
        ),
    )
    assert "checkpoint #2" in tasks.seal()  # re-chained and signed by the real key
    code, out, err = _verify()
    assert code == 1
    assert f"BROKEN at entry {victim.id}: checkpoint #2 in the anchor store" in err
    assert "differs from the database's" in err
    assert "checkpoints: #1 in sequence" in out  # the database's own sequence holds up to there

    AuditAnchor.objects.all().delete()  # the attacker also makes the new #2 get anchored
    tasks.seal()
    assert sorted(a.number for a in anchors.list()) == [1, 2, 2]  # the old #2 stays
    code, _, err = _verify()
    assert code == 1 and f"BROKEN at entry {victim.id}" in err


def test_cutting_the_tail_with_its_checkpoints_is_detected(anchors):
    kept = _write(3)
    tasks.seal()
    cut = _write(4, "t")
    tasks.seal()
    _as_owner(
        ("DELETE FROM audit_auditcheckpoint WHERE number = 2", None),
        ("DELETE FROM audit_auditseal WHERE entry_id >= %s", [cut[0].id]),
        ("DELETE FROM audit_auditentry WHERE id >= %s", [cut[0].id]),
    )
    code, out, err = _verify()
    assert code == 1
    assert f"BROKEN at entry {cut[0].id}: checkpoint #2 in the anchor store" in err
    assert f"is missing from the database: the entries after entry {kept[-1].id}" in err
    assert f"through entry {cut[-1].id} were removed or rewritten" in err

    later = _write(2, "l")  # life goes on: new entries, a new checkpoint #2
    tasks.seal()
    code, _, err = _verify()
    assert code == 1 and f"BROKEN at entry {later[0].id}" not in err
    assert f"BROKEN at entry {cut[0].id}" in err


def test_deleting_a_checkpoint_in_the_middle_leaves_a_gap(anchors):
    first = _write(2)
    tasks.seal()
    second = _write(2, "s")
    tasks.seal()
    _write(2, "u")
    tasks.seal()
    _as_owner(("DELETE FROM audit_auditcheckpoint WHERE number = 2", None))
    code, _, err = _verify()
    assert code == 1
    assert f"BROKEN at entry {second[0].id}: checkpoint #2 missing" in err
    assert first[-1].id < second[0].id


def test_without_an_anchor_store_the_verdict_says_so(settings):
    settings.AUDIT_ANCHOR_URL = ""
    _write(2)
    tasks.seal()
    code, out, _ = _verify()
    assert code == 0
    assert "anchor store: NOT CONFIGURED (AUDIT_ANCHOR_URL)" in out
    assert (
        "NOT YET PROTECTED by an anchor: entries" in out and "(2 entries, none anchored yet)" in out
    )
