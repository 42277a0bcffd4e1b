#!/usr/bin/env python3
"""Verify an OpsPortal audit export offline. Standard library only; copy this one file.

    python3 verify_export.py audit-export.jsonl      # or .csv
    python3 verify_export.py --expect-head <hash> audit-export.csv
    python3 verify_export.py --checkpoints audit-checkpoints.jsonl \
        --keys audit-public-keys.json audit-export.jsonl

(One file on purpose, over 300 lines: auditors copy it alone, so the Ed25519 check
for checkpoint signatures lives here too.)

Each exported entry carries `prev_hash` and `hash`. For every row the script
recomputes

    hash = sha256( prev_hash + "\\n" + canonical(entry) )

where canonical(entry) is the JSON object of the eleven fields below, keys
sorted, no spaces (separators "," and ":"), ASCII-escaped (ensure_ascii),
UTF-8 bytes; `at` is UTC ISO 8601 with microseconds and a "Z"
("2026-12-01T21:34:28.123456Z"); `actor_id`/`incident_id` are integers or
null; `data` is the entry's JSON object. The first entry ever has
prev_hash = 64 zeros. Consecutive rows must link (row.prev_hash == previous
row's hash); a filtered export has gaps, which are counted and reported but
are not failures. The last hash printed can be compared with the live chain
head (`manage.py verify_audit`) or a signed checkpoint.

CSV exports escape text cells that a spreadsheet would run as a formula by
prefixing a single quote; a leading quote is always such a prefix and is
removed before hashing.

Checkpoints (`--checkpoints`: the checkpoints export of the Verify page, or a folder
of anchor files `checkpoint-*.json` copied from the anchor store) are verified with
the public keys (`--keys`: the public keys export, {key id: base64 raw Ed25519 key}):
numbers must run 1, 2, 3... without a gap, each checkpoint's `prev` must be the
previous one's digest (sha256 of its payload; 64 zeros for number 1), and each
signature must verify. The payload is the line "opsportal-audit-checkpoint/1", a
newline, then the JSON object of CHECKPOINT_FIELDS as for entries (sorted keys, no
spaces, ASCII); the signature is Ed25519 over those bytes, base64. A checkpoint that
names an entry in the export must carry that entry's hash.

Exit status: 0 verified, 1 a row does not verify, 2 the file cannot be read.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

GENESIS = "0" * 64
FIELDS = (
    "id",
    "at",
    "actor_id",
    "actor_name",
    "action",
    "target_type",
    "target_id",
    "target_repr",
    "incident_id",
    "data",
    "request_id",
)
EXPORT_COLUMNS = FIELDS + ("prev_hash", "hash")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


def canonical(entry: dict) -> bytes:
    """The exact bytes that are hashed for one entry (fields named in FIELDS)."""
    return json.dumps(
        {name: entry[name] for name in FIELDS},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    ).encode("utf-8")


def link_hash(prev_hash: str, entry: dict) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical(entry)).hexdigest()


def csv_escape(value: str) -> str:
    """Neutralise spreadsheet formulas (a cell starting with =, +, -, @, tab or CR),
    reversibly (see csv_unescape). The one function every CSV of the portal uses."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def csv_unescape(value: str) -> str:
    return value[1:] if value.startswith("'") else value


def _int_or_none(value: str) -> int | None:
    return int(value) if value != "" else None


def read_jsonl(lines: Iterable[str]) -> Iterator[dict]:
    for line in lines:
        if line.strip():
            yield json.loads(line)


def read_csv(lines: Iterable[str]) -> Iterator[dict]:
    reader = csv.DictReader(lines)
    missing = set(EXPORT_COLUMNS) - set(reader.fieldnames or ())
    if missing:
        raise ValueError(f"missing columns: {', '.join(sorted(missing))}")
    for row in reader:
        text = {k: csv_unescape(row[k]) for k in EXPORT_COLUMNS}
        yield {
            **text,
            "id": int(text["id"]),
            "actor_id": _int_or_none(text["actor_id"]),
            "incident_id": _int_or_none(text["incident_id"]),
            "data": json.loads(text["data"]),
        }


def verify(rows: Iterable[dict], out=sys.stdout, signed: dict[int, str] | None = None) -> bool:
    """`signed`: entry id -> the hash a verified checkpoint names for it."""
    count = gaps = matched = 0
    previous: dict | None = None
    for row in rows:
        count += 1
        expected = link_hash(row["prev_hash"], row)
        if expected != row["hash"]:
            print(
                f"BROKEN at entry {row['id']}: hash expected {expected} found {row['hash']}",
                file=out,
            )
            return False
        if signed and row["id"] in signed:
            if signed[row["id"]] != row["hash"]:
                print(
                    f"BROKEN at entry {row['id']}: differs from its signed checkpoint, "
                    f"expected {signed[row['id']]} found {row['hash']}",
                    file=out,
                )
                return False
            matched += 1
        if previous is not None:
            if row["id"] <= previous["id"]:
                print(
                    f"BROKEN at entry {row['id']}: ids must ascend (after {previous['id']})",
                    file=out,
                )
                return False
            if row["prev_hash"] != previous["hash"]:
                gaps += 1
        previous = row
    if previous is None:
        print("OK: the export is empty", file=out)
        return True
    contiguity = "contiguous" if gaps == 0 else f"{gaps} gap(s) (a filtered export)"
    held = f"; {matched} signed checkpoint(s) match" if signed is not None else ""
    print(
        f"OK: {count} entries verified, {contiguity}; last entry {previous['id']} "
        f"hash {previous['hash']}{held}",
        file=out,
    )
    return True


# --- Checkpoints: numbered, linked, Ed25519-signed notes of the chain head ---

CHECKPOINT_MAGIC = b"opsportal-audit-checkpoint/1\n"
CHECKPOINT_FIELDS = ("number", "kind", "prev", "entry_id", "hash", "count", "created_at", "key_id")


def checkpoint_payload(checkpoint: dict) -> bytes:
    """The exact bytes a checkpoint's signature covers."""
    body = {name: checkpoint[name] for name in CHECKPOINT_FIELDS}
    return CHECKPOINT_MAGIC + json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=True
    ).encode("utf-8")


def checkpoint_digest(checkpoint: dict) -> str:
    """A checkpoint's own hash: what the next checkpoint's `prev` must be."""
    return hashlib.sha256(checkpoint_payload(checkpoint)).hexdigest()


def decode_public_key(text: str) -> bytes:
    """A raw 32-byte Ed25519 public key from base64 or hex."""
    text = text.strip()
    raw = bytes.fromhex(text) if len(text) == 64 else base64.b64decode(text, validate=True)
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return raw


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:  # the `cryptography` package when installed (fast); else the RFC 8032 code below
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError:
        return _ed25519_verify(public_key, message, signature)
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def checkpoint_link_problem(checkpoint: dict, previous: dict | None) -> str:
    """What breaks the sequence ("" = nothing). `previous` None: this must be #1."""
    number = checkpoint["number"]
    expected = previous["number"] + 1 if previous else 1
    if number != expected:
        gap = f"#{expected}" if number == expected + 1 else f"#{expected}-#{number - 1}"
        return f"checkpoint {gap} missing: the sequence jumps to #{number}"
    if checkpoint["prev"] != (checkpoint_digest(previous) if previous else GENESIS):
        return f"checkpoint #{number} does not link to checkpoint #{expected - 1}"
    # An archive cut may lie behind the head signed before it; a head never goes back.
    if (
        previous
        and checkpoint["kind"] == "head"
        and (
            checkpoint["entry_id"] < previous["entry_id"] or checkpoint["count"] < previous["count"]
        )
    ):
        return f"checkpoint #{number} goes backwards from checkpoint #{expected - 1}"
    return ""


def checkpoint_signature_problem(checkpoint: dict, keys: dict[str, bytes]) -> str:
    number, key = checkpoint["number"], keys.get(checkpoint["key_id"])
    if key is None:
        return f"checkpoint #{number} is signed with unknown key id {checkpoint['key_id']!r}"
    try:
        signature = base64.b64decode(checkpoint["signature"], validate=True)
    except ValueError:
        signature = b""
    if not ed25519_verify(key, checkpoint_payload(checkpoint), signature):
        return f"checkpoint #{number} signature is invalid"
    return ""


def read_checkpoints(path: str) -> list[dict]:
    """The checkpoints export (JSON Lines), or a folder of anchor files."""
    source = Path(path)
    if source.is_dir():
        found = [json.loads(f.read_text("utf-8")) for f in source.glob("checkpoint-*.json")]
    else:
        with open(source, encoding="utf-8") as handle:
            found = list(read_jsonl(handle))
    return sorted(found, key=lambda c: c["number"])


def verify_checkpoints(
    checkpoints: list[dict], keys: dict[str, bytes], out=sys.stdout
) -> dict[int, str] | None:
    """entry id -> signed hash, or None when the checkpoints themselves do not verify."""
    previous: dict | None = None
    for checkpoint in checkpoints:
        # A copy may start past #1 (anchors copied from some date on): its first link is
        # taken as given; every later one must follow without a gap.
        starts_late = previous is None and checkpoint["number"] != 1
        problem = ("" if starts_late else checkpoint_link_problem(checkpoint, previous)) or (
            checkpoint_signature_problem(checkpoint, keys)
        )
        if problem:
            print(f"BROKEN: {problem}", file=out)
            return None
        previous = checkpoint
    if previous is not None:
        print(
            f"checkpoints #{checkpoints[0]['number']}-#{previous['number']} verified "
            "(sequence, links, signatures)",
            file=out,
        )
    return {c["entry_id"]: c["hash"] for c in checkpoints}


# Ed25519 verification from RFC 8032 (section 6, its reference code), for machines without
# the `cryptography` package. It handles only public data, so constant time does not matter.
_P = 2**255 - 19
_Q = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _point_add(a: tuple, b: tuple) -> tuple:
    x = (a[1] - a[0]) * (b[1] - b[0]) % _P
    y = (a[1] + a[0]) * (b[1] + b[0]) % _P
    c = 2 * a[3] * b[3] * _D % _P
    d = 2 * a[2] * b[2] % _P
    e, f, g, h = y - x, d - c, d + c, y + x
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _point_mul(scalar: int, point: tuple) -> tuple:
    result = (0, 1, 1, 0)
    while scalar > 0:
        if scalar & 1:
            result = _point_add(result, point)
        point = _point_add(point, point)
        scalar >>= 1
    return result


def _point_equal(a: tuple, b: tuple) -> bool:
    return (a[0] * b[2] - b[0] * a[2]) % _P == 0 and (a[1] * b[2] - b[1] * a[2]) % _P == 0


def _recover_x(y: int, sign: int) -> int | None:
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P != 0:
        return None
    return _P - x if (x & 1) != sign else x


def _decompress(data: bytes) -> tuple | None:
    y = int.from_bytes(data, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % _P)


_G_Y = 4 * pow(5, _P - 2, _P) % _P
_G_X = _recover_x(_G_Y, 0)
_G = (_G_X, _G_Y, 1, _G_X * _G_Y % _P)


def _ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    if len(public_key) != 32 or len(signature) != 64:
        return False
    a, r = _decompress(public_key), _decompress(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= _Q:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(), "little")
    return _point_equal(_point_mul(s, _G), _point_add(r, _point_mul(h % _Q, a)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", help="an export file (.csv or .jsonl)")
    parser.add_argument("--expect-head", help="the hash the last row must have")
    parser.add_argument(
        "--checkpoints", help="the checkpoints export (.jsonl) or a folder of anchor files"
    )
    parser.add_argument("--keys", help="the public keys export (.json): {key id: key}")
    args = parser.parse_args(argv)
    if bool(args.checkpoints) != bool(args.keys):
        print("--checkpoints and --keys go together", file=sys.stderr)
        return 2
    signed = None
    try:
        if args.checkpoints:
            with open(args.keys, encoding="utf-8") as handle:
                keys = {k: decode_public_key(v) for k, v in json.load(handle).items()}
            signed = verify_checkpoints(read_checkpoints(args.checkpoints), keys)
            if signed is None:
                return 1
        with open(args.path, encoding="utf-8", newline="") as handle:
            first = handle.readline()
            handle.seek(0)
            rows = read_jsonl(handle) if first.lstrip().startswith("{") else read_csv(handle)
            collected: list[dict] = []

            def remember(stream):
                for row in stream:
                    collected[:] = [row]  # keep only the last row: constant memory
                    yield row

            ok = verify(remember(rows), signed=signed)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"cannot read {args.path}: {exc}", file=sys.stderr)
        return 2
    if ok and args.expect_head and (not collected or collected[0]["hash"] != args.expect_head):
        print(f"BROKEN: the last hash is not the expected head {args.expect_head}")
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
