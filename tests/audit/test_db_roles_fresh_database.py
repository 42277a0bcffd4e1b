"""The production set-up, end to end, on a scratch database: roles from `db_roles`, the
database owned and migrated by the owner role, the grants, then the portal's own commands
as the application's role (append, seal, sign, anchor, verify) and archiving as the owner.
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _url(user: str, dbname: str) -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    netloc = f"{user}@{parts.hostname or '127.0.0.1'}:{parts.port or 5432}"
    return urlunsplit(parts._replace(netloc=netloc, path=f"/{dbname}"))


def _superuser(dbname: str) -> psycopg.Connection:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or None,
        dbname=dbname,
        autocommit=True,
    )


def _manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture
def scratch(tmp_path):
    tag = f"r{uuid.uuid4().hex[:8]}"
    names = {
        "owner": f"{tag}_owner",
        "app": f"{tag}_app",
        "archiver": f"{tag}_archiver",
        "db": f"opsportal_roles_{tag}",
    }
    env = {"DEBUG": "false", "AUDIT_ANCHOR_URL": f"file://{tmp_path / 'anchors'}"}
    yield names, env
    with _superuser("postgres") as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{names["db"]}" WITH (FORCE)')
        for role in ("app", "archiver", "owner"):
            admin.execute(f'DROP ROLE IF EXISTS "{names[role]}"')


def _roles_sql(names: dict, *flag: str) -> str:
    result = _manage(
        "db_roles",
        "--print-sql",
        *flag,
        f"--owner={names['owner']}",
        f"--app={names['app']}",
        f"--archiver={names['archiver']}",
        env={"DEBUG": "true"},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_fresh_production_database_with_its_three_roles(scratch, tmp_path):
    names, env = scratch
    with _superuser("postgres") as admin:  # 1. the roles, then a database the owner owns
        admin.execute(_roles_sql(names, "--roles-only"))
        admin.execute(f'CREATE DATABASE "{names["db"]}" OWNER "{names["owner"]}"')
    as_owner = {**env, "DATABASE_URL": _url(names["owner"], names["db"])}
    as_app = {**env, "DATABASE_URL": _url(names["app"], names["db"])}
    migrated = _manage("migrate", "--no-input", env=as_owner)  # 2. migrate as the owner
    assert migrated.returncode == 0, migrated.stderr
    with _superuser(names["db"]) as admin:  # 3. the grants
        admin.execute(_roles_sql(names, "--grants-only"))

    # 4. The portal as the application's role: append, seal, sign, anchor, verify.
    wrote = _manage(
        "shell",
        "-c",
        "import audit\nfor i in range(4): audit.record(action='test.fresh', data={'i': i})",
        env=as_app,
    )
    assert wrote.returncode == 0, wrote.stderr
    sealed = _manage("seal_audit", env=as_app)
    assert sealed.returncode == 0, sealed.stderr
    assert "checkpoint #1 signed" in sealed.stdout and "1 checkpoint(s) written" in sealed.stdout
    verified = _manage("verify_audit", env=as_app)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    with psycopg.connect(as_app["DATABASE_URL"], autocommit=True) as app:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute("DELETE FROM audit_auditentry")

    # 5. Archiving: refused to the application, done by the owner through the function.
    out = tmp_path / "archive.jsonl"
    refused = _manage("archive_audit", "--through-id", "2", "--out", str(out), env=as_app)
    assert refused.returncode != 0 and "permission denied for function" in refused.stderr
    out.unlink()
    archived = _manage("archive_audit", "--through-id", "2", "--out", str(out), env=as_owner)
    assert archived.returncode == 0, archived.stderr
    assert _manage("seal_audit", env=as_app).returncode == 0
    verified = _manage("verify_audit", env=as_app)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "(from entry 3)" in verified.stdout
    assert "3 anchored checkpoint(s), each present and identical" in verified.stdout
