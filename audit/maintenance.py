"""The one narrow way past the audit log's append-only trigger.

The PostgreSQL trigger (migration 0002) lets DELETE and TRUNCATE through only
inside a transaction that ran `SET LOCAL opsportal.audit_maintenance = 'on'`;
UPDATE is never let through (the sealer writes new seal rows, it edits nothing).
Two callers are allowed to open that hatch, both documented in the README:

- `audit_maintenance()`, used by the archival command to move old rows out;
- the test suite's database flush (pytest-django empties every table with one
  TRUNCATE after each `transaction=True` test), via `allow_test_flush()` called
  from tests/conftest.py. Production code never calls it: `manage.py flush` on a
  real database is refused by the trigger, as it should be.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction

MAINTENANCE_SQL = "SET LOCAL opsportal.audit_maintenance = 'on'"


@contextmanager
def audit_maintenance() -> Iterator[None]:
    """A transaction in which rows may be deleted from the audit tables (never updated)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(MAINTENANCE_SQL)
        yield


def allow_test_flush() -> None:
    """Let Django's flush (tests only) truncate the audit tables, in its own transaction."""
    from django.db.backends.base.operations import BaseDatabaseOperations

    original = BaseDatabaseOperations.execute_sql_flush
    if getattr(original, "_audit_maintenance", False):
        return

    def execute_sql_flush(self, sql_list):
        # execute_sql_flush runs the whole list in one transaction, so SET LOCAL covers it.
        if self.connection.vendor == "postgresql" and sql_list:
            sql_list = [MAINTENANCE_SQL, *sql_list]
        return original(self, sql_list)

    execute_sql_flush._audit_maintenance = True
    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush
