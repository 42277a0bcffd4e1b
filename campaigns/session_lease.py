"""The campaign lease on PostgreSQL: an advisory lock held by a session of its own.

Why a session lock: when the holder's process dies (SIGKILL, OOM, a lost host) its
sockets close and the server ends the session, which releases the lock at once; a
standby blocked on the same lock gets it within milliseconds and sends on. Nothing
waits for an expiry. A holder that is only slow or paused keeps its session, so its
lease is never taken from it behind its back.

The lock lives on a connection opened for this lease alone (never the thread's Django
connection, which outlives the slice in a worker and would keep the lock after a crash
in our code). Behind PgBouncer in transaction mode a session lock means nothing: point
`DATABASE_SESSION_URL` at the primary (or a session-mode pool) then.

The `DispatchLease` row is kept in step (holder, expiry renewed by `check()`): it is the
fencing token — `check()` fails as soon as the row names someone else (a replay clears
it), and the coordinator stops its lanes — and it is what the pages read.

Each lease connection names its node in `application_name`, so `view()` can tell who
holds the lock and on which node the standbys wait (pg_locks + pg_stat_activity).
"""

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import DatabaseError, load_backend

from campaigns.models import DispatchLease
from campaigns.nodes import node_name

# The two-key form of the advisory lock: (LOCK_CLASS, campaign id). Its key space is
# separate from the one-key (bigint) locks the redeem statement and the sealer take.
LOCK_CLASS = 0x6F70_6361  # "opca"
APP_NAME_PREFIX = "opsportal-lease:"
LOCK_NOT_AVAILABLE = "55P03"


def lock_key(campaign_id: int) -> int:
    # The lock takes int4 keys; campaign ids stay far below 2^31 (a collision past that
    # would only make two campaigns share a lease: slower, never a double send).
    return campaign_id % 2**31


@dataclass
class LeaseView:
    holder_node: str | None = None  # None: nobody holds it right now
    standby_nodes: list[str] = field(default_factory=list)


def _lease_connection():
    base = connections[DEFAULT_DB_ALIAS].settings_dict
    settings_dict = {**base, **(settings.DATABASE_SESSION or {})}
    wrapper = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, "lease")
    with wrapper.cursor() as cursor:
        cursor.execute("SET application_name = %s", [(APP_NAME_PREFIX + node_name())[:63]])
    return wrapper


def _sqlstate(exc: BaseException) -> str | None:
    return getattr(exc.__cause__, "sqlstate", None)


class SessionLease:
    standby_capable = True

    def __init__(self, campaign_id: int, *, holder: str, ttl: float):
        self.campaign_id, self.holder, self.ttl = campaign_id, holder, ttl
        self.key = lock_key(campaign_id)
        self._db = _lease_connection()

    def _execute(self, sql: str, params=()) -> list[tuple]:
        with self._db.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else [(cursor.rowcount,)]

    def _take_row(self, now: dt.datetime) -> None:
        table = DispatchLease._meta.db_table
        self._execute(
            f"""
            INSERT INTO {table} (campaign_id, holder, expires_at, acquired_at)
            VALUES (%s, %s, %s, %s)
            ON CONFLICT (campaign_id) DO UPDATE
               SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at,
                   acquired_at = EXCLUDED.acquired_at
            """,
            [self.campaign_id, self.holder, now + dt.timedelta(seconds=self.ttl), now],
        )

    def acquire(self, *, now: dt.datetime) -> bool:
        """Take the lease if it is free; never waits."""
        got = self._execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_CLASS, self.key])[0][0]
        if got:
            self._take_row(now)
        return got

    def wait(self, *, seconds: float, now: dt.datetime) -> bool:
        """Block up to `seconds` for the lease (a standby); True once it is ours."""
        self._execute(f"SET lock_timeout = '{max(1, int(seconds * 1000))}ms'")
        try:
            self._execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_CLASS, self.key])
        except DatabaseError as exc:
            if _sqlstate(exc) == LOCK_NOT_AVAILABLE:
                return False
            raise
        self._take_row(now)
        return True

    def check(self, *, now: dt.datetime) -> bool:
        """Still ours: the session is alive and the row still names us (renewed)."""
        table = DispatchLease._meta.db_table
        try:
            updated = self._execute(
                f"UPDATE {table} SET expires_at = %s WHERE campaign_id = %s AND holder = %s",
                [now + dt.timedelta(seconds=self.ttl), self.campaign_id, self.holder],
            )[0][0]
        except DatabaseError:
            return False  # the lease's session is gone, and the lock with it
        return updated == 1

    def view(self) -> LeaseView:
        rows = self._execute(
            """
            SELECT l.granted, a.application_name
              FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'advisory' AND l.objsubid = 2
               AND l.classid = %s::oid AND l.objid = %s::oid
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND l.pid <> pg_backend_pid()
            """,
            [LOCK_CLASS, self.key],
        )
        view = LeaseView()
        for granted, app_name in rows:
            node = (app_name or "").removeprefix(APP_NAME_PREFIX)
            if granted:
                view.holder_node = node
            else:
                view.standby_nodes.append(node)
        return view

    def release(self, *, now: dt.datetime, held: bool) -> None:
        """Give the lease back (the row first, so nobody reads a stale holder) and close."""
        try:
            if held:
                self._execute(
                    f"UPDATE {DispatchLease._meta.db_table} SET holder = '', expires_at = %s"
                    " WHERE campaign_id = %s AND holder = %s",
                    [now, self.campaign_id, self.holder],
                )
                self._execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_CLASS, self.key])
        except DatabaseError:
            pass  # the session is gone: so is the lock
        finally:
            self._db.close()


def session_leases_held() -> set[int]:
    """Lock keys (= campaign ids) whose lease some live session holds."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(
            """
            SELECT objid::bigint FROM pg_locks
             WHERE locktype = 'advisory' AND objsubid = 2 AND granted AND classid = %s::oid
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """,
            [LOCK_CLASS],
        )
        return {row[0] for row in cursor.fetchall()}
