"""Exports: streamed, audited, and verifiable offline by the one-file script."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.http import StreamingHttpResponse

import audit
import audit.verify_export
from audit.models import AuditEntry
from audit.sealing import audit_seal

EXPORT = "/admin/audit/auditentry/browse/export"
SCRIPT = Path(audit.verify_export.__file__)


@pytest.fixture
def sealed_log(db):
    made = []
    for i in range(12):
        made.append(
            audit.record(
                action="test.export" if i % 2 else "test.other",
                target_type="vouchers.voucher",
                target_id=str(i),
                target_repr=[
                    '=HYPERLINK("http://x")',
                    "+1",
                    "'quoted",
                    'plain, "comma"\nline',
                    "Kigali – Remera ⛽",
                ][i % 5],
                incident_id=5 if i % 3 == 0 else None,
                data={
                    "amount": 5000.5,
                    "n": i,
                    "nested": {"b": [1, 2.25, None, True], "a": "é"},
                    "api_key": "sb_secret_abcdefghijklmnop",
                },
            )
        )
    audit_seal()
    return made


def _download(client, fmt, tmp_path, **params) -> Path:
    response = client.get(f"{EXPORT}.{fmt}", params)
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    path = tmp_path / f"export.{fmt}"
    path.write_bytes(b"".join(response.streaming_content))
    return path


def _verify(path: Path, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(path), *args], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_full_export_verifies_offline_and_is_contiguous(
    client_for, auditor_user, sealed_log, tmp_path, fmt
):
    path = _download(client_for(auditor_user), fmt, tmp_path)
    result = _verify(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "contiguous" in result.stdout
    head = AuditEntry.objects.filter(seal__isnull=False).order_by("-id").first()
    assert head.seal.hash in result.stdout
    assert _verify(path, "--expect-head", head.seal.hash).returncode == 0
    assert _verify(path, "--expect-head", "0" * 64).returncode == 1


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_filtered_export_verifies_with_gaps(client_for, auditor_user, sealed_log, tmp_path, fmt):
    path = _download(client_for(auditor_user), fmt, tmp_path, action="test.export")
    result = _verify(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 entries verified" in result.stdout and "gap" in result.stdout


def test_tampered_jsonl_export_fails_at_the_changed_entry(
    client_for, auditor_user, sealed_log, tmp_path
):
    path = _download(client_for(auditor_user), "jsonl", tmp_path)
    lines = path.read_text().splitlines()
    row = json.loads(lines[3])
    row["actor_name"] = "someone-else"
    lines[3] = json.dumps(row)
    path.write_text("\n".join(lines) + "\n")
    result = _verify(path)
    assert result.returncode == 1
    assert f"BROKEN at entry {row['id']}" in result.stdout


def test_tampered_csv_export_fails(client_for, auditor_user, sealed_log, tmp_path):
    path = _download(client_for(auditor_user), "csv", tmp_path)
    text = path.read_text()
    assert "5000.5" in text
    path.write_text(text.replace("5000.5", "50.5", 1))
    assert _verify(path).returncode == 1


def test_csv_neutralises_formulas_and_keeps_secrets_out(
    client_for, auditor_user, sealed_log, tmp_path
):
    text = _download(client_for(auditor_user), "csv", tmp_path).read_text()
    assert "\"'=HYPERLINK" in text and ",'+1," in text and ",''quoted" in text
    assert "sb_secret_abcdefghijklmnop" not in text  # redacted when recorded


def test_each_export_is_audited(client_for, auditor_user, sealed_log, tmp_path):
    _download(client_for(auditor_user), "csv", tmp_path, action="test.export", incident="5")
    recorded = AuditEntry.objects.get(action="audit.exported")
    assert recorded.actor_id == auditor_user.pk
    assert recorded.data == {"format": "csv", "filters": {"action": "test.export", "incident": "5"}}


def test_unsealed_entries_are_left_out(client_for, auditor_user, sealed_log, tmp_path):
    audit.record(action="test.export", target_repr="too new")
    text = _download(client_for(auditor_user), "jsonl", tmp_path).read_text()
    sealed = AuditEntry.objects.filter(seal__isnull=False).count()
    assert "too new" not in text and len(text.splitlines()) == sealed >= 12


def test_bad_export_requests(client_for, auditor_user, sealed_log):
    client = client_for(auditor_user)
    assert client.get(f"{EXPORT}.xml").status_code == 404
    assert client.get(f"{EXPORT}.csv", {"incident": "x"}).status_code == 400
