#!/usr/bin/env python3
"""Verify an OpsPortal audit export offline. Standard library only; copy this one file.

    python3 verify_export.py audit-export.jsonl      # or .csv
    python3 verify_export.py --expect-head <hash> audit-export.csv

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

Exit status: 0 verified, 1 a row does not verify, 2 the file cannot be read.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from collections.abc import Iterable, Iterator

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
    """Neutralise spreadsheet formulas, reversibly (see csv_unescape)."""
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


def verify(rows: Iterable[dict], out=sys.stdout) -> bool:
    count = gaps = 0
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
    print(
        f"OK: {count} entries verified, {contiguity}; last entry {previous['id']} "
        f"hash {previous['hash']}",
        file=out,
    )
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", help="an export file (.csv or .jsonl)")
    parser.add_argument("--expect-head", help="the hash the last row must have")
    args = parser.parse_args(argv)
    try:
        with open(args.path, encoding="utf-8", newline="") as handle:
            first = handle.readline()
            handle.seek(0)
            rows = read_jsonl(handle) if first.lstrip().startswith("{") else read_csv(handle)
            collected: list[dict] = []

            def remember(stream):
                for row in stream:
                    collected[:] = [row]  # keep only the last row: constant memory
                    yield row

            ok = verify(remember(rows))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"cannot read {args.path}: {exc}", file=sys.stderr)
        return 2
    if ok and args.expect_head and (not collected or collected[0]["hash"] != args.expect_head):
        print(f"BROKEN: the last hash is not the expected head {args.expect_head}")
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
