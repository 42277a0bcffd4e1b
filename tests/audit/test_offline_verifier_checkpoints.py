"""The offline verifier also checks the signed checkpoints with the public keys alone: the
files an auditor downloads from the Verify page (or copies from the anchor store), run by
the one-file script, with `cryptography` or with its own RFC 8032 code."""

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import audit
import audit.verify_export
from audit import tasks
from audit.verify_export import _ed25519_verify, link_hash

SCRIPT = Path(audit.verify_export.__file__)
PAGE = "/admin/audit/auditentry/verify/export"
# Runs the script with the `cryptography` package unimportable: the standard library only.
WITHOUT_CRYPTOGRAPHY = (
    "import runpy, sys; sys.modules['cryptography'] = None; sys.argv = sys.argv[1:]; "
    "runpy.run_path(sys.argv[0], run_name='__main__')"
)


@pytest.fixture
def downloads(db, file_anchors, client_for, auditor_user, tmp_path):
    for round_ in range(3):
        for i in range(3):
            audit.record(action="test.offline", target_id=f"{round_}-{i}", data={"i": i})
        tasks.seal()
    client = client_for(auditor_user)
    files = {
        "export": ("/admin/audit/auditentry/browse/export.jsonl", "export.jsonl"),
        "checkpoints": (f"{PAGE}/checkpoints.jsonl", "checkpoints.jsonl"),
        "keys": (f"{PAGE}/public-keys.json", "keys.json"),
    }
    paths = {}
    for name, (url, filename) in files.items():
        response = client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        paths[name] = tmp_path / filename
        paths[name].write_bytes(body)
    paths["anchors"] = file_anchors.root
    return paths


def _run(*args, pure: bool = False) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", WITHOUT_CRYPTOGRAPHY] if pure else [sys.executable]
    return subprocess.run(
        [*command, str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("pure", [False, True], ids=["cryptography", "stdlib-only"])
@pytest.mark.parametrize("source", ["checkpoints", "anchors"])
def test_checkpoints_verify_offline(downloads, source, pure):
    d = downloads
    result = _run("--checkpoints", d[source], "--keys", d["keys"], d["export"], pure=pure)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "checkpoints #1-#3 verified (sequence, links, signatures)" in result.stdout
    assert "10 entries verified, contiguous" in result.stdout  # the auditor's creation too
    assert "3 signed checkpoint(s) match" in result.stdout


def test_a_forged_checkpoint_fails_offline(downloads):
    lines = downloads["checkpoints"].read_text().splitlines()
    forged = json.loads(lines[1])
    forged["hash"] = "f" * 64
    lines[1] = json.dumps(forged)
    downloads["checkpoints"].write_text("\n".join(lines) + "\n")
    result = _run(
        "--checkpoints", downloads["checkpoints"], "--keys", downloads["keys"], downloads["export"]
    )
    assert result.returncode == 1 and "BROKEN: checkpoint #2 signature is invalid" in result.stdout


def test_a_missing_checkpoint_fails_offline(downloads):
    lines = downloads["checkpoints"].read_text().splitlines()
    downloads["checkpoints"].write_text("\n".join([lines[0], lines[2]]) + "\n")
    result = _run(
        "--checkpoints", downloads["checkpoints"], "--keys", downloads["keys"], downloads["export"]
    )
    assert result.returncode == 1
    assert "BROKEN: checkpoint #2 missing: the sequence jumps to #3" in result.stdout


def test_an_export_rechained_after_an_edit_fails_against_the_checkpoints(downloads):
    """Rewrite an entry and recompute every hash after it: the chain alone still verifies;
    the signed checkpoints do not."""
    rows = [json.loads(line) for line in downloads["export"].read_text().splitlines()]
    rows[4]["data"] = {"i": 1000}
    for i in range(4, len(rows)):
        rows[i]["prev_hash"] = rows[i - 1]["hash"]
        rows[i]["hash"] = link_hash(rows[i]["prev_hash"], rows[i])
    downloads["export"].write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert _run(downloads["export"]).returncode == 0
    result = _run(
        "--checkpoints", downloads["checkpoints"], "--keys", downloads["keys"], downloads["export"]
    )
    assert result.returncode == 1
    signed = [json.loads(line)["entry_id"] for line in downloads["checkpoints"].open()]
    first_signed_after = min(e for e in signed if e >= rows[4]["id"])
    assert f"BROKEN at entry {first_signed_after}: differs from its signed checkpoint" in (
        result.stdout
    )


def test_unknown_key_and_missing_keys_file(downloads, tmp_path):
    other = tmp_path / "other-keys.json"
    key = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    other.write_text(json.dumps({"someone-else": base64.b64encode(key).decode()}))
    result = _run("--checkpoints", downloads["checkpoints"], "--keys", other, downloads["export"])
    assert result.returncode == 1 and "unknown key id 'test-1'" in result.stdout
    assert _run("--checkpoints", downloads["checkpoints"], downloads["export"]).returncode == 2


def test_the_stdlib_ed25519_agrees_with_cryptography():
    # RFC 8032, section 7.1, test 1 (the empty message).
    public = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    signature = bytes.fromhex(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33b"
        "acc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )
    assert _ed25519_verify(public, b"", signature)
    assert not _ed25519_verify(public, b"x", signature)
    for i in range(20):
        key = Ed25519PrivateKey.generate()
        message = os.urandom(i * 13)
        signed = key.sign(message)
        public = key.public_key().public_bytes_raw()
        assert _ed25519_verify(public, message, signed)
        broken = bytearray(signed)
        broken[i % 64] ^= 0x40
        assert not _ed25519_verify(public, message, bytes(broken))
        assert not _ed25519_verify(public, message + b".", signed)
