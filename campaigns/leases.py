"""Campaign ownership (a lease row: holder + expiry) and worker heartbeats.

One statement each, so two workers racing for the same campaign can never both
win: the upsert only takes over a lease that is free, expired or already ours.
"""

import datetime as dt
import os
import socket
import uuid

from django.db import connection

from campaigns.models import DispatchLease, WorkerHeartbeat


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def new_holder() -> str:
    return f"{worker_name()}:{uuid.uuid4().hex[:8]}"


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
