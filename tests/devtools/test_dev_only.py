"""The simulator is a development tool: production settings do not install it and no
production module imports it; DEBUG=true (`make run`) or DEVTOOLS_ENABLED=true do."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROD = {
    "DEBUG": "false",
    "SECRET_KEY": "prod-like-key-" + "x7Gq2LpV9sZr4TkW8yNbM3cHfJ6dQa1E" * 2,
    "ALLOWED_HOSTS": "ops.example.com",
    "AUDIT_ANCHOR_URL": "file:///tmp/opsportal-dev-only-anchors",
}
# Loads every app, the admin and the whole URLconf, then says what it found.
PROBE = """
import sys, django
django.setup()
from django.apps import apps
from django.core.management import get_commands
from django.urls import get_resolver
get_resolver().url_patterns
print(apps.is_installed("devtools"), "simulate" in get_commands(),
      any(m == "devtools" or m.startswith("devtools.") for m in sys.modules))
"""

pytestmark = pytest.mark.slow


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DEBUG", "DEVTOOLS_", "SECRET_KEY", "SECURE_", "SESSION_", "CSRF_"))
    }
    clean.update(env, DJANGO_SETTINGS_MODULE="opsportal.settings")
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


def _installed_commands_imported(**env: str) -> str:
    result = _run(["-c", PROBE], **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_production_settings_neither_install_nor_import_devtools():
    assert _installed_commands_imported(**PROD) == "False False False"


def test_check_deploy_passes_and_does_not_mention_devtools():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PROD)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "devtools" not in result.stdout + result.stderr
    help_text = _run(["manage.py", "help"], **PROD).stdout
    assert "simulate" not in help_text and "[devtools]" not in help_text


def test_debug_installs_devtools_for_make_run():
    assert _installed_commands_imported(DEBUG="true").startswith("True True")


def test_devtools_enabled_installs_it_without_debug():
    assert _installed_commands_imported(**PROD, DEVTOOLS_ENABLED="true").startswith("True True")
