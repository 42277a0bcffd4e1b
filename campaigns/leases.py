"""Campaign ownership (the lease) and worker heartbeats.

Two kinds of lease, one interface (`lease_open`):

- PostgreSQL: `SessionLease` (campaigns/session_lease.py), a session-level advisory lock
  held by a connection of its own. The server drops it the moment the holder's process
  dies (its socket closes), so a standby waiting on the same lock takes the campaign over
  at once instead of waiting for an expiry; a paused holder keeps it (its session is
  alive), so two holders never overlap. The `DispatchLease` row still names the holder:
  it is the fencing token (`check()` fails once the row names someone else, e.g. after a
  replay) and what pages and the watchdog read.
- SQLite (the embedded `make run`, one host): `RowLease`, the row alone with an expiry,
  renewed while the holder works; a crashed holder's campaign waits for the expiry.

Each row statement is one statement, so two workers racing for the same row can never
both win: the upsert only takes over a lease that is free, expired or already ours.
"""

import datetime as dt
import uuid

from django.db import connection

from campaigns.models import DispatchLease, WorkerHeartbeat
from campaigns.nodes import node_name, worker_name


def new_holder() -> str:
    return f"{node_name()}/{worker_name()}:{uuid.uuid4().hex[:8]}"


def holder_node(holder: str) -> str:
    return holder.split("/", 1)[0] if "/" in holder else ""


def lease_acquire(*, campaign_id: int, holder: str, now: dt.datetime, ttl: float) -> bool:
    table = DispatchLease._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (campaign_id, holder, expires_at, acquired_at)
            VALUES (%s, %s, %s, %s)
            ON CONFLICT (campaign_id) DO UPDATE
               SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at,
                   acquired_at = EXCLUDED.acquired_at
             WHERE {table}.expires_at < %s OR {table}.holder = EXCLUDED.holder
            RETURNING holder
            """,
            [campaign_id, holder, now + dt.timedelta(seconds=ttl), now, now],
        )
        return cursor.fetchone() is not None


def lease_renew(*, campaign_id: int, holder: str, now: dt.datetime, ttl: float) -> bool:
    """False when the lease is no longer ours (expired and taken over): stop sending."""
    return bool(
        DispatchLease.objects.filter(campaign_id=campaign_id, holder=holder).update(
            expires_at=now + dt.timedelta(seconds=ttl)
        )
    )


def lease_release(*, campaign_id: int, holder: str, now: dt.datetime) -> None:
    DispatchLease.objects.filter(campaign_id=campaign_id, holder=holder).update(
        holder="", expires_at=now
    )


def heartbeat_write(*, now: dt.datetime, worker: str | None = None) -> None:
    WorkerHeartbeat.objects.update_or_create(
        worker=worker or worker_name(), defaults={"seen_at": now}
    )


class RowLease:
    """The lease as a row with an expiry (SQLite): no standby, takeover after expiry."""

    standby_capable = False

    def __init__(self, campaign_id: int, *, holder: str, ttl: float):
        self.campaign_id, self.holder, self.ttl = campaign_id, holder, ttl

    def acquire(self, *, now: dt.datetime) -> bool:
        return lease_acquire(
            campaign_id=self.campaign_id, holder=self.holder, now=now, ttl=self.ttl
        )

    def wait(self, *, seconds: float, now: dt.datetime) -> bool:
        return False

    def check(self, *, now: dt.datetime) -> bool:
        return lease_renew(campaign_id=self.campaign_id, holder=self.holder, now=now, ttl=self.ttl)

    def view(self):
        return None

    def release(self, *, now: dt.datetime, held: bool) -> None:
        if held:
            lease_release(campaign_id=self.campaign_id, holder=self.holder, now=now)


def lease_open(campaign_id: int, *, holder: str, ttl: float):
    """The lease for this database: a `SessionLease` on PostgreSQL, else a `RowLease`."""
    if connection.vendor == "postgresql":
        from campaigns.session_lease import SessionLease

        return SessionLease(campaign_id, holder=holder, ttl=ttl)
    return RowLease(campaign_id, holder=holder, ttl=ttl)


def campaigns_held(*, now: dt.datetime) -> set[int]:
    """Campaigns someone dispatches right now (the watchdog leaves them alone)."""
    if connection.vendor == "postgresql":
        from campaigns.session_lease import session_leases_held

        return session_leases_held()
    return set(
        DispatchLease.objects.filter(expires_at__gte=now).values_list("campaign_id", flat=True)
    )
