"""`audit_raw_insert`: an entry written by the caller's own SQL statement holds what
`audit.record` would write — same columns, secrets redacted by audit — and is sealed and
verified like any other."""

import pytest
from django.db import connection

import audit
from audit.models import AuditEntry
from audit.sealing import audit_seal
from audit.services import COLUMNS, Param, Sql, audit_raw_insert
from audit.verification import audit_verify
from audit.verify_export import FIELDS

pytestmark = pytest.mark.django_db

SECRETS = {
    "token": "sb_secret_abcdefgh12345678",  # redacted for its key's name
    "note": "called with Bearer abcdefghijklmnopqrstuvwx",  # masked where it appears
    "key": "plain-key-1",
}


def _raw_insert():
    return audit_raw_insert(
        source="(SELECT %(code)s::text AS code) AS src",
        at=Sql("now()"),
        actor_name=Sql("'station:' || src.code"),
        action="thing.done",
        target_type="t.thing",
        target_id="7",
        target_repr=Sql("src.code"),
        data={name: Param(f"p_{name}") for name in SECRETS} | {"code": Sql("src.code")},
        request_id=Sql("%(q)s::text"),
    )


def test_one_column_list():
    assert COLUMNS == FIELDS[1:]  # the canonical fields the chain hashes, `id` aside


def test_raw_insert_writes_what_audit_record_writes():
    raw = _raw_insert()
    with connection.cursor() as cursor:
        cursor.execute(raw.sql, {**raw.params(**SECRETS), "code": "C-1", "q": "req-1"})
    written = AuditEntry.objects.get()
    recorded = audit.record(
        action="thing.done",
        actor_name="station:C-1",
        target_type="t.thing",
        target_id="7",
        target_repr="C-1",
        data={**SECRETS, "code": "C-1"},
        request_id="req-1",
    )
    fields = [name for name in FIELDS if name not in ("id", "at")]
    assert [getattr(written, f) for f in fields] == [getattr(recorded, f) for f in fields]
    assert written.data["token"] == "[redacted]"
    assert "abcdefghijklmnopqrstuvwx" not in written.data["note"]
    assert written.data["key"] == "plain-key-1"

    assert audit_seal().sealed == 2
    verified = audit_verify()
    assert verified.ok and verified.checked == 2


def test_params_are_redacted_by_audit_not_by_the_caller():
    params = _raw_insert().params(**SECRETS)
    assert set(params) == {f"p_{name}" for name in SECRETS}
    assert SECRETS["token"] not in repr(params) and "abcdefghijklmnopqrstuvwx" not in repr(params)


def test_unknown_columns_are_refused():
    with pytest.raises(TypeError):
        audit_raw_insert(source="x", data={}, colour=Sql("1"))
