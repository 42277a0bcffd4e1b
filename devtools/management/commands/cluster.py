"""`manage.py cluster` (`make cluster`): two web hosts, two worker clusters on Redis, the
simulator and a proxy, on this machine, against DATABASE_URL (PostgreSQL; created if
missing). Migrates and loads the demo data first; Ctrl-C stops everything.
See devtools/cluster/topology.py and README "Running on several hosts"."""

import signal
import threading

import psycopg
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from devtools.cluster.topology import Topology, database_url_of
from devtools.simulator.server import start_simulator


def _database_create_if_missing(settings_dict: dict) -> None:
    name = settings_dict["NAME"]
    params = {
        "host": settings_dict.get("HOST") or "127.0.0.1",
        "port": settings_dict.get("PORT") or 5432,
        "user": settings_dict.get("USER") or "postgres",
        "password": settings_dict.get("PASSWORD") or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')


class Command(BaseCommand):
    help = "Two web hosts + two qclusters on Redis, sharing PostgreSQL and a Redis cache."

    def add_arguments(self, parser):
        parser.add_argument("--sim-port", type=int, default=8787)
        parser.add_argument("--broker-db", type=int, default=6, help="Redis database: broker")
        parser.add_argument("--cache-db", type=int, default=7, help="Redis database: cache")
        parser.add_argument(
            "--slice-seconds", default="20", help="CAMPAIGN_SLICE_SECONDS (hand-overs to watch)"
        )

    def handle(self, *args, sim_port, broker_db, cache_db, slice_seconds, **options):
        if connection.vendor != "postgresql":
            raise CommandError("make cluster needs PostgreSQL: DATABASE_URL=postgres://…")
        _database_create_if_missing(connection.settings_dict)
        call_command("migrate", interactive=False, verbosity=0)
        call_command("demo", stdout=self.stdout)
        sim = start_simulator(port=sim_port)
        topology = Topology(
            database_url=database_url_of(connection.settings_dict),
            sim_url=sim.url,
            broker_db=broker_db,
            cache_db=cache_db,
            env={"CAMPAIGN_SLICE_SECONDS": slice_seconds},
        )
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        try:
            topology.start()
            self.stdout.write(topology.describe())
            self.stdout.write(f"simulator             {sim.url}")
            self.stdout.write("Ctrl-C stops all.")
            stop.wait()
        finally:
            topology.stop()
            sim.stop()
            topology.cleanup()
