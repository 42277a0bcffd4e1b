"""LOG_FORMAT=json: one JSON object per line with time, level, logger, message and the
request id; secrets are masked as in text logs. Text stays the default."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import logging
from django.test import Client
Client().get("/no-such-page", HTTP_X_REQUEST_ID="req-abc-123")
logging.getLogger("opsportal.check").warning(
    "rotating: Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123456789"
)
"""


def run_shell(**env) -> list[str]:
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SCRIPT],
        cwd=ROOT,
        env={
            **os.environ,
            "SECRET_KEY": "json-log-test-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "ALLOWED_HOSTS": "testserver",
            "DEBUG": "false",
            "SECURE_SSL_REDIRECT": "false",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return [line for line in result.stderr.splitlines() if line.strip()]


def test_json_lines_carry_the_request_id_and_mask_secrets():
    records = [json.loads(line) for line in run_shell(LOG_FORMAT="json")]
    not_found = next(r for r in records if r["logger"] == "django.request")
    assert not_found["level"] == "WARNING"
    assert not_found["request_id"] == "req-abc-123"
    assert "/no-such-page" in not_found["message"]
    assert not_found["time"].startswith("20")
    check = next(r for r in records if r["logger"] == "opsportal.check")
    assert check["request_id"] == ""  # outside any request
    assert "abcdefghijklmnopqrstuvwxyz" not in check["message"]
    assert "[redacted" in check["message"]


def test_text_stays_the_default():
    lines = run_shell()
    assert any(line.startswith("Not Found: /no-such-page") for line in lines)
    assert all(not line.startswith("{") for line in lines)
