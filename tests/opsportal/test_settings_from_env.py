"""Settings come from the environment; production settings pass `check --deploy`."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DEBUG", "SECRET_KEY", "Q_", "SECURE_", "SESSION_", "CSRF_"))
    }
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


PROD = {
    "DEBUG": "false",
    "SECRET_KEY": "prod-like-key-" + "x7Gq2LpV9sZr4TkW8yNbM3cHfJ6dQa1E" * 2,
    "ALLOWED_HOSTS": "ops.example.com",
    "AUDIT_SIGNING_KEY": "dwJGVCETp6nvQNsnPZz0yCB+319vj11EgnMEgyPjMWo=",
    "AUDIT_SIGNING_KEY_ID": "prod-like-1",
    "AUDIT_ANCHOR_URL": "s3://audit-anchors/opsportal",
}


def test_production_settings_pass_check_deploy_without_warnings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PROD)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_secret_key_is_required_unless_debug():
    result = _manage("check", DEBUG="false", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr
    assert _manage("check", DEBUG="true", SECRET_KEY="").returncode == 0


def test_task_timeout_must_stay_below_retry():
    result = _manage("check", DEBUG="true", Q_TIMEOUT="200", Q_RETRY="100")
    assert result.returncode != 0
    assert "opsportal.E001" in result.stderr


def test_an_enabled_integration_without_its_settings_is_refused_at_start():
    result = _manage("check", DEBUG="true", SLACK_ENABLED="true", SLACK_BOT_TOKEN="")
    assert result.returncode != 0
    assert "opsportal.E010" in result.stderr and "SLACK_BOT_TOKEN" in result.stderr


def test_unset_integrations_are_not_a_crash(settings):
    # The suite itself runs with no integration configured.
    assert settings.SLACK_ENABLED is False and settings.VERCEL_ENABLED is False
    assert _manage("check", DEBUG="true").returncode == 0


def test_broker_switches_between_orm_and_redis():
    code = "from django.conf import settings as s; print(sorted(k for k in ('orm','redis') if k in s.Q_CLUSTER))"
    orm = _manage("shell", "-c", code, DEBUG="true", Q_BROKER_URL="")
    redis = _manage("shell", "-c", code, DEBUG="true", Q_BROKER_URL="redis://127.0.0.1:6379/3")
    assert "['orm']" in orm.stdout
    assert "['redis']" in redis.stdout
