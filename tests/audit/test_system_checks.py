"""Start-up checks: production refuses to run without a checkpoint signing key, with a
key it cannot read, or an anchor store it does not understand; no anchor store warns."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KEY = "dwJGVCETp6nvQNsnPZz0yCB+319vj11EgnMEgyPjMWo="
PROD = {
    "DEBUG": "false",
    "SECRET_KEY": "prod-like-key-" + "x7Gq2LpV9sZr4TkW8yNbM3cHfJ6dQa1E" * 2,
    "ALLOWED_HOSTS": "ops.example.com",
    "AUDIT_SIGNING_KEY": KEY,
    "AUDIT_SIGNING_KEY_ID": "prod-1",
    "AUDIT_ANCHOR_URL": "s3://audit-anchors/opsportal",
}


def _check(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DEBUG", "AUDIT_"))}
    clean.update({**PROD, **env})
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_without_a_signing_key_is_refused():
    result = _check(AUDIT_SIGNING_KEY="")
    assert result.returncode != 0 and "audit.E001" in result.stderr


def test_a_development_setup_needs_no_key():
    result = _check(DEBUG="true", AUDIT_SIGNING_KEY="", AUDIT_SIGNING_KEY_ID="")
    assert result.returncode == 0, result.stderr


def test_the_key_comes_from_a_file_too(tmp_path):
    path = tmp_path / "audit-signing-key"
    path.write_text(KEY + "\n")
    result = _check(AUDIT_SIGNING_KEY="", AUDIT_SIGNING_KEY_FILE=str(path))
    assert result.returncode == 0, result.stderr


def test_an_unreadable_key_or_verify_key_is_refused_without_showing_it():
    result = _check(AUDIT_SIGNING_KEY="not-a-key-but-a-secret-all-the-same")
    assert result.returncode != 0 and "audit.E002" in result.stderr
    assert "not-a-key-but-a-secret" not in result.stderr + result.stdout
    result = _check(AUDIT_VERIFY_KEYS="old=nonsense")
    assert result.returncode != 0 and "audit.E003" in result.stderr


def test_a_verify_key_under_the_signing_key_id_must_be_its_public_key():
    other = "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik="
    result = _check(AUDIT_VERIFY_KEYS=f"prod-1={other}")
    assert result.returncode != 0 and "audit.E003" in result.stderr


def test_anchor_store_url_is_checked_and_its_absence_warned():
    result = _check(AUDIT_ANCHOR_URL="ftp://somewhere")
    assert result.returncode != 0 and "audit.E004" in result.stderr
    result = _check(AUDIT_ANCHOR_URL="")
    assert result.returncode != 0 and "audit.W001" in result.stderr
    assert _check(AUDIT_ANCHOR_URL="file:///var/lib/opsportal/anchors").returncode == 0
