"""The test suite's own way past the audit triggers, for its database flush (tests only).

pytest-django empties every table with one TRUNCATE after each `transaction=True` test,
and the audit tables refuse TRUNCATE (audit/migrations/0007_no_maintenance_switch.py).
The test connection is a superuser, so its flush runs with
`SET LOCAL session_replication_role = replica`, which skips ordinary triggers and which
only a superuser may set: the application's database role cannot, and a superuser doing
it in production is what the anchored checkpoints detect.
"""

REPLICA_SQL = "SET LOCAL session_replication_role = replica"


def allow_test_flush() -> None:
    from django.db.backends.base.operations import BaseDatabaseOperations

    original = BaseDatabaseOperations.execute_sql_flush
    if getattr(original, "_audit_test_flush", False):
        return

    def execute_sql_flush(self, sql_list):
        # execute_sql_flush runs the whole list in one transaction, so SET LOCAL covers it.
        if self.connection.vendor == "postgresql" and sql_list:
            sql_list = [REPLICA_SQL, *sql_list]
        return original(self, sql_list)

    execute_sql_flush._audit_test_flush = True
    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush
