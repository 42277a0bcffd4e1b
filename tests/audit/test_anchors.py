"""Anchors: every checkpoint also written outside the database (a folder, or S3 with Object
Lock served by moto), after its commit, retried when the store fails, never overwritten."""

import json

import pytest

import audit
from audit import tasks
from audit.anchors import AnchorStoreError, anchor_body, anchor_name
from audit.checkpoints import checkpoint_record
from audit.models import AuditAnchor, AuditCheckpoint, AuditSeal
from audit.verification import audit_verify
from audit.verify_export import checkpoint_digest

pytestmark = pytest.mark.django_db


def _seal_run(n: int = 2) -> str:
    for i in range(n):
        audit.record(action="test.anchor", target_id=str(i), data={"i": i})
    return tasks.seal()


def test_every_checkpoint_goes_to_the_anchor_store(anchors):
    for _ in range(3):
        assert "1 anchored" in _seal_run()
    stored = list(anchors.list())
    checkpoints = list(AuditCheckpoint.objects.order_by("number"))
    assert [a.number for a in stored] == [1, 2, 3]
    for anchor, checkpoint in zip(stored, checkpoints, strict=True):
        record = checkpoint_record(checkpoint)
        assert anchor.digest == checkpoint_digest(record)
        assert anchor.key.endswith(anchor_name(checkpoint.number, anchor.digest))
        assert json.loads(anchors.get(anchor)) == record  # what the offline verifier reads
    result = audit_verify()
    assert result.ok and result.checkpoints.anchors == 3
    assert result.checkpoints.last_anchor["number"] == 3
    assert result.window["entries"] == 0


def test_a_failed_write_never_blocks_sealing_and_is_retried(settings, anchors):
    configured = settings.AUDIT_ANCHOR_URL, settings.AUDIT_ANCHOR_ENDPOINT_URL
    if configured[0].startswith("file://"):
        blocker = configured[0].removeprefix("file://")
        open(blocker, "w").close()  # a file where the folder should be
    else:
        settings.AUDIT_ANCHOR_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens there
    note = _seal_run()
    assert note.startswith("sealed 2") and "checkpoint #1" in note
    assert "anchoring failed (retried next run)" in note
    note = _seal_run()
    assert "checkpoint #2" in note and "anchoring failed" in note
    assert AuditSeal.objects.count() == 4 and not AuditAnchor.objects.exists()
    result = audit_verify()
    assert not result.ok and not result.problems  # incomplete (store unreadable), not broken

    if configured[0].startswith("file://"):
        import os

        os.unlink(blocker)
    settings.AUDIT_ANCHOR_ENDPOINT_URL = configured[1]
    assert "2 anchored" in tasks.seal()  # the next run catches up, in order
    assert [a.number for a in anchors.list()] == [1, 2]
    assert audit_verify().ok


def test_an_anchor_is_never_overwritten(anchors):
    _seal_run()
    anchor = next(iter(anchors.list()))
    name = anchor.key.rsplit("/", 1)[-1]
    original = anchors.get(anchor)
    anchors.put(name, original)  # the same content again (a retry): fine
    with pytest.raises(AnchorStoreError, match="exists with other content"):
        anchors.put(name, anchor_body({"number": 1, "forged": True}))
    assert anchors.get(next(iter(anchors.list()))) == original


def test_s3_object_lock_keeps_anchors_a_delete_cannot_hide(s3_anchors):
    """Someone with the bucket's credentials "deletes" an anchor: Object Lock refuses to
    remove the version, and a delete marker hides nothing from verification."""
    from botocore.exceptions import ClientError

    _seal_run()
    anchor = next(iter(s3_anchors.list()))
    s3, bucket = s3_anchors.s3, s3_anchors.bucket_name
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.delete_object(Bucket=bucket, Key=anchor.key, VersionId=anchor.version)
    s3.delete_object(Bucket=bucket, Key=anchor.key)  # only adds a delete marker
    assert [a.number for a in s3_anchors.list()] == [1]
    result = audit_verify()
    assert result.ok and result.checkpoints.anchors == 1
