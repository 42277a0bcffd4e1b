"""Streamed CSV and JSON Lines exports with the chain hashes (verify with verify_export.py)."""

import csv
import json
from collections.abc import Iterable, Iterator

from audit.chain import entry_fields
from audit.verify_export import EXPORT_COLUMNS, csv_escape


class _Line:
    """A file-like object for csv.writer that hands back each written line."""

    def write(self, value: str) -> str:
        return value


def _export_record(row: dict) -> dict:
    return {**entry_fields(row), "prev_hash": row["seal__prev_hash"], "hash": row["seal__hash"]}


def jsonl_lines(rows: Iterable[dict]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(_export_record(row), ensure_ascii=False) + "\n"


def csv_lines(rows: Iterable[dict]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        record = _export_record(row)
        record["data"] = json.dumps(record["data"], ensure_ascii=False, sort_keys=True)
        yield writer.writerow(
            [
                csv_escape(v) if isinstance(v, str) else ("" if v is None else v)
                for v in (record[c] for c in EXPORT_COLUMNS)
            ]
        )
