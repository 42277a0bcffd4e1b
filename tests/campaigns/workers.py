"""Real `manage.py qcluster` processes against this test database (slow tests and bench)."""

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)


def database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return (
        f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
        f"/{s['NAME']}"
    )


class Cluster:
    """One qcluster process group; `kill()` is SIGKILL to the whole group (a dead host)."""

    def __init__(self, *, sim_url: str, cluster_name: str, broker_url: str = "", **env):
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "SECRET_KEY": "test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "Q_CLUSTER_NAME": cluster_name,
            "Q_BROKER_URL": broker_url,
            "Q_WORKERS": "2",
            "Q_POLL": "0.05",
            "Q_TIMEOUT": "30",
            "Q_RETRY": "40",
            "CAMPAIGN_SLICE_SECONDS": "8",
            "CAMPAIGN_LEASE_SECONDS": "3",
            "SUPABASE_URL": sim_url,
            "SUPABASE_FUNCTIONS_JWT": "sim-functions-jwt",
            "SUPABASE_FUNCTIONS_ENABLED": "true",
            "LOG_LEVEL": "WARNING",
            **{k: str(v) for k, v in env.items()},
        }
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Cluster":
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        return self

    def log_tail(self, chars: int = 3000) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-chars:]

    def pids(self) -> list[int]:
        pgid = self.proc.pid
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[2]) == pgid:  # field 5 (pgrp), counted after the comm
                    found.append(int(entry.name))
        return found

    def cpu_seconds(self) -> float:
        """utime + stime of every live process in the group (workers included)."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / ticks

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        if self.proc:
            try:  # orphaned workers of the group, if any survived the parent
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self.kill()
        if self.proc:
            print(f"--- qcluster {self.proc.pid} log tail ---\n{self.log_tail()}")
            self.log.close()


def unique_cluster_name() -> str:
    return f"opsportal-test-{uuid.uuid4().hex[:8]}"


def wait_for(predicate, *, timeout: float, every: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()
