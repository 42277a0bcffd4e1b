"""Checkpoints: numbered without gaps, linked, Ed25519-signed with a key of their own;
SECRET_KEY plays no part, keys rotate, and checkpoints from before numbering stay readable."""

import base64
import threading

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

import audit
from audit import tasks
from audit.chain import GENESIS, legacy_checkpoint_signature
from audit.checkpoints import audit_checkpoint_create, checkpoint_record
from audit.models import AuditCheckpoint, AuditSeal
from audit.sealing import audit_seal
from audit.signing import SigningKeyError, public_key_text, signing_key, verify_keys
from audit.verification import audit_verify
from audit.verify_export import checkpoint_digest, checkpoint_payload
from audit.verify_report import summary_lines


def _round(n: int = 2) -> AuditCheckpoint:
    """n new entries, sealed, and a checkpoint of the new head (a seal run)."""
    for i in range(n):
        audit.record(action="test.checkpoint", target_id=str(i), data={"i": i})
    audit_seal()
    return audit_checkpoint_create()


def _new_key(settings, key_id: str) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    settings.AUDIT_SIGNING_KEY = base64.b64encode(key.private_bytes_raw()).decode()
    settings.AUDIT_SIGNING_KEY_ID = key_id
    return key


@pytest.mark.django_db
def test_checkpoints_are_numbered_linked_and_signed_with_ed25519():
    made = [_round(2) for _ in range(3)]
    assert [c.number for c in made] == [1, 2, 3]
    assert made[0].prev == GENESIS
    assert made[1].prev == checkpoint_digest(checkpoint_record(made[0]))
    assert made[2].prev == checkpoint_digest(checkpoint_record(made[1]))
    assert [c.count for c in made] == [2, 4, 6]
    assert made[2].entry_id == AuditSeal.objects.order_by("-entry_id").first().entry_id
    # Anyone holding the public key alone can check a signature.
    public = Ed25519PublicKey.from_public_bytes(verify_keys()["test-1"])
    public.verify(
        base64.b64decode(made[2].signature), checkpoint_payload(checkpoint_record(made[2]))
    )
    result = audit_verify()
    assert result.ok and result.checkpoints.numbered == 3
    assert result.checkpoints.key_ids == {"test-1"}


@pytest.mark.django_db
def test_no_checkpoint_when_the_head_has_not_moved():
    assert _round(1).number == 1
    assert audit_checkpoint_create() is None
    assert AuditCheckpoint.objects.count() == 1


@pytest.mark.django_db
def test_changing_secret_key_changes_nothing(settings, capsys):
    _round(3)
    _round(2)
    settings.SECRET_KEY = "a-completely-different-secret-key-0123456789-abcdefghijklmnop"
    assert audit_verify().ok
    call_command("verify_audit")  # exit status 0: no SystemExit
    assert "OK: 5 entries verified" in capsys.readouterr().out


@pytest.mark.django_db
def test_rotated_keys_verify_with_the_old_public_key_still_listed(settings):
    old_public = public_key_text(signing_key()[1])
    _round(2)
    _round(2)
    _new_key(settings, "test-2")
    settings.AUDIT_VERIFY_KEYS = {"test-1": old_public}
    third = _round(2)
    assert third.key_id == "test-2" and third.number == 3
    result = audit_verify()
    assert result.ok, result.problem
    assert result.checkpoints.key_ids == {"test-1", "test-2"}

    settings.AUDIT_VERIFY_KEYS = {}  # the old public key dropped from the list
    problem = audit_verify().problem
    assert "checkpoint #1 is signed with unknown key id 'test-1'" in problem.what
    assert "AUDIT_VERIFY_KEYS" in problem.what


@pytest.mark.django_db
def test_a_verifier_needs_public_keys_only(settings):
    public = public_key_text(signing_key()[1])
    _round(3)
    settings.AUDIT_SIGNING_KEY = ""
    settings.AUDIT_VERIFY_KEYS = {"test-1": public}
    assert audit_verify().ok


@pytest.mark.django_db
def test_a_checkpoint_signed_by_another_key_under_our_id_is_refused(settings):
    ours = public_key_text(signing_key()[1])
    _round(2)
    _new_key(settings, "test-1")  # someone else's key, claiming our id
    _round(2)
    settings.AUDIT_SIGNING_KEY = ""
    settings.AUDIT_VERIFY_KEYS = {"test-1": ours}
    assert "checkpoint #2 signature is invalid" in audit_verify().problem.what


@pytest.mark.django_db
def test_the_development_key_exists_only_with_debug(settings):
    settings.AUDIT_SIGNING_KEY = ""
    settings.DEBUG = True
    assert signing_key()[0] == "dev"
    settings.DEBUG = False
    with pytest.raises(SigningKeyError, match="AUDIT_SIGNING_KEY is not set"):
        signing_key()


@pytest.mark.django_db
def test_without_a_key_sealing_goes_on_and_the_checkpoint_waits(settings):
    settings.AUDIT_SIGNING_KEY = ""
    audit.record(action="test.no-key")
    note = tasks.seal()
    assert note.startswith("sealed 1") and "no checkpoint" in note
    assert AuditSeal.objects.count() == 1 and not AuditCheckpoint.objects.exists()
    settings.AUDIT_SIGNING_KEY = "dwJGVCETp6nvQNsnPZz0yCB+319vj11EgnMEgyPjMWo="
    assert "checkpoint #1" in tasks.seal()  # the next run signs the head it missed


@pytest.mark.django_db(transaction=True)
def test_concurrent_seal_runs_leave_no_gap_in_the_numbers():
    errors: list[BaseException] = []

    def sealer(n: int):
        try:
            for i in range(6):
                audit.record(action="test.concurrent-checkpoint", data={"n": n, "i": i})
                audit_seal(max_wait=1)
                audit_checkpoint_create()
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sealer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    numbers = list(AuditCheckpoint.objects.order_by("number").values_list("number", flat=True))
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 2
    result = audit_verify()
    assert result.ok, result.problem


def _legacy(key: str, entry_id: int, hash: str, kind: str = "head") -> AuditCheckpoint:
    """A checkpoint as the HMAC version wrote it, before numbering."""
    now = timezone.now()
    return AuditCheckpoint.objects.create(
        kind=kind,
        created_at=now,
        entry_id=entry_id,
        hash=hash,
        signature=legacy_checkpoint_signature(
            key=key, entry_id=entry_id, hash=hash, created_at=now, kind=kind
        ),
    )


@pytest.mark.django_db
def test_an_upgraded_installation_still_verifies_its_legacy_checkpoints(settings):
    old_secret = "the-secret-key-of-an-old-installation-0123456789"
    audit.record(action="test.before-upgrade")
    head = audit_seal()
    _legacy(old_secret, head.head_id, head.head_hash)
    first = _round(2)  # the upgrade: numbering starts at 1, counting every sealed entry
    assert first.number == 1 and first.count == 3

    settings.AUDIT_CHECKPOINT_KEY = ""
    result = audit_verify()
    assert result.ok and result.checkpoints.legacy_unverified == 1
    assert any(
        "not verified, AUDIT_CHECKPOINT_KEY is not set" in line
        for line in (summary_lines(result.as_dict()))
    )
    settings.AUDIT_CHECKPOINT_KEY = old_secret
    result = audit_verify()
    assert result.ok and result.checkpoints.legacy_verified == 1
    settings.AUDIT_CHECKPOINT_KEY = "not-the-key-they-were-signed-with"
    assert "legacy checkpoint" in audit_verify().problem.what
