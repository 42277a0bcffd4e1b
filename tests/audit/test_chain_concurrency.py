"""The chain under concurrency: writers never wait for it, and it never skips an entry."""

import random
import threading
import time

import pytest
from django.db import connection, transaction

import audit
from audit.models import AuditEntry, AuditSeal
from audit.sealing import audit_seal
from audit.verification import audit_verify


def _in_thread(fn):
    def run(*args):
        try:
            fn(*args)
        finally:
            connection.close()

    return run


@pytest.mark.django_db(transaction=True)
def test_sixteen_concurrent_writers_leave_a_valid_chain():
    errors: list[BaseException] = []
    writers_done = threading.Event()

    @_in_thread
    def writer(n: int):
        rng = random.Random(n)
        try:
            for i in range(12):
                with transaction.atomic():
                    audit.record(
                        action="test.concurrent",
                        target_type="t.w",
                        target_id=str(n),
                        data={"writer": n, "i": i},
                    )
                    # Hold the transaction open a little: ids then commit out of order.
                    time.sleep(rng.random() * 0.02)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    @_in_thread
    def sealer():
        try:
            while not writers_done.is_set():
                audit_seal(max_wait=0.05)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(16)]
    seal_thread = threading.Thread(target=sealer)
    seal_thread.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writers_done.set()
    seal_thread.join()
    assert not errors
    audit_seal()
    result = audit_verify()
    assert result.ok, result.problem
    assert result.checked == AuditEntry.objects.count() == 16 * 12 == AuditSeal.objects.count()
    assert result.unsealed == 0


@pytest.mark.django_db(transaction=True)
def test_sealer_waits_for_an_older_open_transaction():
    """A lower id committed after a higher one must still be sealed, in id order."""
    inserted, release = threading.Event(), threading.Event()
    slow_id: list[int] = []

    @_in_thread
    def slow_writer():
        with transaction.atomic():
            slow_id.append(audit.record(action="test.slow").id)
            inserted.set()
            release.wait(10)

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert inserted.wait(10)
    fast = audit.record(action="test.fast")  # higher id, committed first
    assert fast.id > slow_id[0]

    waiting = audit_seal(max_wait=0.1)
    assert waiting.waiting and waiting.sealed == 0
    assert not AuditSeal.objects.exists()

    release.set()
    thread.join()
    done = audit_seal()
    assert done.sealed == 2
    assert list(AuditSeal.objects.order_by("entry_id").values_list("entry_id", flat=True)) == [
        slow_id[0],
        fast.id,
    ]
    assert audit_verify().ok


@pytest.mark.django_db(transaction=True)
def test_an_idle_read_only_transaction_does_not_hold_the_sealer_back():
    opened, release = threading.Event(), threading.Event()

    @_in_thread
    def reader():
        with transaction.atomic():
            AuditEntry.objects.exists()  # reads, writes nothing: no transaction id
            opened.set()
            release.wait(10)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        assert opened.wait(10)
        entry = audit.record(action="test.while-someone-reads")
        result = audit_seal(max_wait=0.5)
        assert not result.waiting and result.head_id == entry.id
    finally:
        release.set()
        thread.join()


@pytest.mark.django_db(transaction=True)
def test_rolled_back_ids_are_gaps_not_holes():
    before = audit.record(action="test.before")
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record(action="test.rolled-back")
        raise RuntimeError
    after = audit.record(action="test.after")
    assert audit_seal().sealed == 2
    result = audit_verify()
    assert result.ok and result.head_id == after.id and result.checked == 2
    assert before.id < after.id - 1  # the rolled-back id is skipped, not waited for
