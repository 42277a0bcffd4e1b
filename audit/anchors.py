"""The anchor store: every checkpoint also lives outside the database.

`AUDIT_ANCHOR_URL` chooses it: `s3://bucket/prefix` (boto3; in production a bucket with
S3 Object Lock in compliance mode, so no one, the application's credentials and the
bucket owner included, can delete or replace an anchor before its retention ends;
`AUDIT_ANCHOR_ENDPOINT_URL` points boto3 elsewhere, e.g. moto in tests) or
`file:///dir` (development; `make run` uses `.audit-anchors/`).

One object per checkpoint, `checkpoint-<number, 12 digits>-<digest>.json`, holding the
checkpoint as signed (the offline verifier reads a folder of them). The digest in the
name lets verification list the store (S3: every version, so a delete marker hides
nothing) and compare it with the database without reading each object; an object is
read only when its checkpoint is missing from the database or differs.

Writing happens after the checkpoint commits and never blocks sealing: a failed write
is logged and the next seal run retries it (anchors go out in number order;
`AuditAnchor` notes how far they got).
"""

import json
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.utils import timezone

from audit.checkpoints import checkpoint_record
from audit.models import AuditAnchor, AuditCheckpoint
from audit.verify_export import checkpoint_digest

logger = logging.getLogger(__name__)

NAME = re.compile(r"checkpoint-(\d{12})-([0-9a-f]{64})\.json$")


class AnchorStoreError(Exception):
    """The store cannot be read or written (its message names no credentials)."""


@dataclass(frozen=True)
class Anchor:
    number: int
    digest: str
    key: str
    version: str | None
    written_at: datetime


def anchor_name(number: int, digest: str) -> str:
    return f"checkpoint-{number:012d}-{digest}.json"


def anchor_body(record: dict) -> bytes:
    return (json.dumps(record, sort_keys=True, indent=1) + "\n").encode("utf-8")


class FileStore:
    def __init__(self, path: str):
        self.root = Path(path)
        self.description = f"file://{self.root}"

    def put(self, name: str, body: bytes) -> str:
        path = self.root / name
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            try:
                with open(path, "xb") as handle:  # never overwrite an anchor
                    handle.write(body)
                    handle.flush()
                    os.fsync(handle.fileno())
            except FileExistsError:
                if path.read_bytes() != body:
                    raise AnchorStoreError(f"{name} exists with other content") from None
        except OSError as exc:
            raise AnchorStoreError(f"cannot write {path}: {exc.strerror}") from exc
        return str(path)

    def list(self) -> Iterator[Anchor]:
        if not self.root.exists():
            return  # nothing anchored yet
        if not self.root.is_dir():
            raise AnchorStoreError(f"cannot list {self.root}: not a folder")
        for path in sorted(self.root.glob("checkpoint-*.json")):  # number order, as S3 lists
            match = NAME.search(path.name)
            if match:
                written = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
                yield Anchor(int(match[1]), match[2], str(path), None, written)

    def get(self, anchor: Anchor) -> bytes:
        try:
            return Path(anchor.key).read_bytes()
        except OSError as exc:
            raise AnchorStoreError(f"cannot read {anchor.key}: {exc.strerror}") from exc


class S3Store:
    def __init__(self, bucket: str, prefix: str):
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.description = f"s3://{bucket}/{self.prefix}".rstrip("/")

    @property
    def _client(self):
        return _s3_client(
            settings.AUDIT_ANCHOR_ENDPOINT_URL,
            settings.AWS_REGION,
            settings.INTEGRATIONS_CONNECT_TIMEOUT,
            settings.INTEGRATIONS_READ_TIMEOUT,
        )

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def _call(self, what: str, func, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return func(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            raise AnchorStoreError(f"{what} {self.description}: {code}") from exc
        except BotoCoreError as exc:
            raise AnchorStoreError(f"{what} {self.description}: {type(exc).__name__}") from exc

    def put(self, name: str, body: bytes) -> str:
        client, key = self._client, self._key(name)
        try:
            # If-None-Match: an existing anchor makes the write fail instead of gaining a
            # new version on top.
            self._call(
                "cannot write",
                client.put_object,
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                IfNoneMatch="*",
            )
        except AnchorStoreError as exc:
            if not str(exc).endswith(": PreconditionFailed"):
                raise
            stored = self._call("cannot read", client.get_object, Bucket=self.bucket, Key=key)
            if stored["Body"].read() != body:
                raise AnchorStoreError(f"{key} exists with other content") from None
        return f"s3://{self.bucket}/{key}"

    def list(self) -> Iterator[Anchor]:
        client = self._client
        pages = client.get_paginator("list_object_versions").paginate(
            Bucket=self.bucket, Prefix=self._key("checkpoint-")
        )
        iterator = iter(pages)
        while True:
            page = self._call("cannot list", lambda: next(iterator, None))
            if page is None:
                return
            for version in page.get("Versions", []):
                match = NAME.search(version["Key"])
                if match:
                    yield Anchor(
                        int(match[1]),
                        match[2],
                        version["Key"],
                        version.get("VersionId"),
                        version["LastModified"],
                    )

    def get(self, anchor: Anchor) -> bytes:
        extra = {"VersionId": anchor.version} if anchor.version not in (None, "null") else {}
        stored = self._call(
            "cannot read", self._client.get_object, Bucket=self.bucket, Key=anchor.key, **extra
        )
        return stored["Body"].read()


@lru_cache(maxsize=4)
def _s3_client(endpoint_url, region, connect_timeout, read_timeout):
    # Building a boto3 client loads service models (CPU-heavy); clients are thread-safe.
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"max_attempts": 3, "mode": "standard"},
    )
    return boto3.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)


def anchor_store() -> FileStore | S3Store | None:
    """The configured store, or None when AUDIT_ANCHOR_URL is empty (checked at start-up)."""
    url = settings.AUDIT_ANCHOR_URL
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme == "file" and parts.path:
        return FileStore(unquote(parts.path))
    if parts.scheme == "s3" and parts.netloc:
        return S3Store(parts.netloc, unquote(parts.path))
    raise AnchorStoreError("AUDIT_ANCHOR_URL must be s3://bucket/prefix or file:///dir")


@dataclass(frozen=True)
class AnchorRun:
    written: int
    error: str = ""


def audit_anchor_pending(*, limit: int = 500) -> AnchorRun:
    """Write every checkpoint the store does not have yet, in number order; stop at the
    first failure (the next seal run starts again from there)."""
    try:
        store = anchor_store()
    except AnchorStoreError as exc:
        return AnchorRun(0, str(exc))
    if store is None:
        return AnchorRun(0)
    last = AuditAnchor.objects.order_by("-number").values_list("number", flat=True).first() or 0
    pending = AuditCheckpoint.objects.filter(number__gt=last).order_by("number")[:limit]
    written = 0
    for checkpoint in pending:
        record = checkpoint_record(checkpoint)
        name = anchor_name(checkpoint.number, checkpoint_digest(record))
        try:
            location = store.put(name, anchor_body(record))
        except AnchorStoreError as exc:
            logger.warning(
                "audit anchor #%s not written (retried next run): %s", checkpoint.number, exc
            )
            return AnchorRun(written, str(exc))
        AuditAnchor.objects.create(
            number=checkpoint.number, anchored_at=timezone.now(), location=location[:500]
        )
        written += 1
    return AnchorRun(written)
