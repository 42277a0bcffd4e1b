"""A new person's first hour: `make run` writes a git-ignored `.env` (DEBUG=true, a generated
SECRET_KEY) on its first run, so the README's operator commands work in a second terminal;
`manage.py demo --tokens` issues new demo station tokens (the old ones stop working; audited)."""

import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from audit.models import AuditEntry
from opsportal.first_run import main as first_run
from vouchers.models import Station
from vouchers.tokens import station_token_hash

ROOT = Path(__file__).resolve().parents[2]


def test_first_run_writes_a_dotenv_once(tmp_path, capsys):
    path = tmp_path / ".env"
    assert first_run(["--path", str(path)]) == 0
    text = path.read_text()
    assert "DEBUG=true" in text.splitlines()
    key = re.search(r"^SECRET_KEY=(\S+)$", text, re.M).group(1)
    assert len(key) >= 50
    assert "AUDIT_CHECKPOINT_KEY" not in text
    assert oct(path.stat().st_mode & 0o777) == "0o600"

    assert first_run(["--path", str(path)]) == 0
    assert path.read_text() == text  # never overwritten
    assert "kept as it is" in capsys.readouterr().out


def test_a_database_older_than_the_dotenv_keeps_its_checkpoints_verifiable(tmp_path):
    (tmp_path / "db.sqlite3").write_bytes(b"")
    first_run(["--path", str(tmp_path / ".env")])
    text = (tmp_path / ".env").read_text()
    assert "AUDIT_CHECKPOINT_KEY=insecure-development-key-only-used-with-DEBUG-true" in text


def test_dotenv_is_git_ignored():
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()


@pytest.mark.slow
def test_the_readme_commands_work_in_a_second_terminal(tmp_path):
    """Nothing in the environment but the `.env` and the database: as in a new terminal."""
    first_run(["--path", str(tmp_path / ".env")])
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DEBUG", "SECRET_KEY", "DEVTOOLS", "DJANGO_SETTINGS", "PYTEST"))
    }
    env.update(
        OPSPORTAL_ENV_FILE=str(tmp_path / ".env"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        # DEBUG anchors audit checkpoints in the checkout's .audit-anchors/: this database's own.
        AUDIT_ANCHOR_URL=f"file://{tmp_path / 'anchors'}",
    )

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    manage("migrate", "--no-input", "-v", "0")
    manage("create_staff", "nina", "--role", "ops", "--password", "a-long-first-hour-pass-1")
    token = manage("create_station", "KGL-900", "--name", "First hour").strip().splitlines()[-1]
    assert token.startswith("stn_")
    manage("issue_vouchers", "--count", "3", "--amount", "5000", "--currency", "RWF")
    manage("create_api_token", "nina", "--name", "first-hour")
    assert "token (shown once)" in manage("demo", "--tokens")
    manage("seal_audit")
    assert "OK" in manage("verify_audit")


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_demo_tokens_issues_new_tokens_and_the_old_ones_stop_working():
    first = run("demo")
    old = dict(re.findall(r"station (\S+) token \(shown once\): (\S+)", first))
    assert len(old) == 3
    again = run("demo")
    assert "demo --tokens" in again and "token (shown once)" not in again

    reissued = dict(
        re.findall(r"station (\S+) token \(shown once\): (\S+)", run("demo", "--tokens"))
    )

    assert set(reissued) == set(old)
    for code, token in reissued.items():
        station = Station.objects.get(code=code)
        assert station.token_hash == station_token_hash(token)
        assert station.token_hash != station_token_hash(old[code])
    rotated = AuditEntry.objects.filter(action="station.token_rotated")
    assert sorted(rotated.values_list("target_repr", flat=True)) == sorted(
        str(Station.objects.get(code=c)) for c in old
    )
