"""Targets in from CSV: every row checked first, then all rows in or none.

Columns: `phone` (required) plus any others, which become the target's template
variables. Numbers are normalised to E.164 (local numbers read in `region`).
Re-uploading the same file is a no-op: (campaign, phone) is unique and existing
targets are left as they are.

A file that cannot be a target list at all — empty, too large, binary (a spreadsheet
workbook, an image), in an encoding we cannot read, not CSV, without a `phone` column —
is refused as a whole with `UploadRefused` (its message says what to do); nothing is saved.
"""

import csv
import io
from dataclasses import dataclass, field
from typing import BinaryIO

from django.db import transaction

import audit
from audit.verify_export import csv_escape, csv_unescape
from campaigns.controls import control_applies
from campaigns.errors import CampaignError, CampaignNotFound, InvalidState
from campaigns.models import Campaign, Target
from campaigns.phones import phone_normalise

MAX_ROWS = 200_000
MAX_BYTES = 20 * 1024 * 1024
MAX_VARIABLE_LENGTH = 500


@dataclass
class RowError:
    line: int
    phone: str
    reason: str


@dataclass
class ImportResult:
    created: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def report_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["line", "phone", "reason"])
        for e in self.errors:  # a cell a spreadsheet would run as a formula is neutralised
            writer.writerow([e.line, csv_escape(e.phone), csv_escape(e.reason)])
        return out.getvalue()


class UploadRefused(CampaignError):
    """The file as a whole is not a usable target list; `detail` says why, for a person."""


# Magic numbers of the binary files people pick by mistake.
BINARY_SIGNATURES = {
    b"PK\x03\x04": "a ZIP archive or an Excel workbook (.xlsx)",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls)",
    b"%PDF": "a PDF",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
}
SAVE_AS = 'Save it as "CSV UTF-8 (comma delimited)" and upload that.'


def _read(data: bytes | BinaryIO) -> bytes:
    """The upload's bytes, refusing a file over MAX_BYTES before reading it all."""
    limit = f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB: split it into parts."
    if isinstance(data, bytes | bytearray):
        raw = bytes(data)
    else:
        if (getattr(data, "size", None) or 0) > MAX_BYTES:
            raise UploadRefused(limit)
        raw = data.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise UploadRefused(limit)
    if not raw.strip():
        raise UploadRefused("The file is empty: it needs a header row with a phone column.")
    return raw


def _decode(raw: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with its BOM, or Windows-1252 (what older Excel
    saves); anything else is refused rather than guessed."""
    for signature, what in BINARY_SIGNATURES.items():
        if raw.startswith(signature):
            raise UploadRefused(f"This is {what}, not a CSV text file. {SAVE_AS}")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ("utf-16",)
    elif b"\x00" in raw:
        raise UploadRefused(f"This is a binary file, not CSV text. {SAVE_AS}")
    else:
        encodings = ("utf-8-sig", "cp1252")
    for encoding in encodings:
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UploadRefused(f"The file's text encoding cannot be read. {SAVE_AS}")
    if any(ch in text for ch in "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0e\x0f\x7f"):
        raise UploadRefused(f"This is a binary file, not CSV text. {SAVE_AS}")
    return text


def _parse(data: bytes | BinaryIO, region: str) -> tuple[list[Target], list[RowError]]:
    reader = csv.DictReader(io.StringIO(_decode(_read(data))))
    try:
        headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise UploadRefused(f"This is not a readable CSV file ({exc}). {SAVE_AS}") from None
    if "phone" not in headers:
        raise UploadRefused(
            "The file has no 'phone' column in its header row (first line): "
            f"found {', '.join(repr(h) for h in headers[:8] if h) or 'nothing'}."
        )
    try:
        return _rows(reader, headers, region)
    except csv.Error as exc:
        raise UploadRefused(
            f"This is not a readable CSV file (line {reader.line_num}: {exc}). {SAVE_AS}"
        ) from None


def _rows(reader: csv.DictReader, headers: list[str], region: str):
    reader.fieldnames = headers
    targets: list[Target] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(reader):
        line = index + 2  # header is line 1
        if index >= MAX_ROWS:
            errors.append(RowError(line, "", f"more than {MAX_ROWS} rows"))
            break
        # An export of ours quotes phones ('+250…): read back without the quote.
        raw = csv_unescape((row.get("phone") or "").strip())
        if None in row:  # more cells than headers
            errors.append(RowError(line, raw, "more cells than header columns"))
            continue
        try:
            phone = phone_normalise(raw, region=region)
        except ValueError as exc:
            errors.append(RowError(line, raw, str(exc)))
            continue
        if phone in seen:
            errors.append(RowError(line, raw, f"same number as line {seen[phone]}"))
            continue
        variables = {k: (v or "").strip() for k, v in row.items() if k and k != "phone"}
        if any(len(v) > MAX_VARIABLE_LENGTH for v in variables.values()):
            errors.append(RowError(line, raw, f"a value is longer than {MAX_VARIABLE_LENGTH}"))
            continue
        seen[phone] = line
        targets.append(Target(phone=phone, variables=variables))
    if not targets and not errors:
        raise UploadRefused("The file has a header row but no targets under it.")
    return targets, errors


def targets_import(*, campaign_id: int, data: bytes | BinaryIO, region: str, actor) -> ImportResult:
    """Validate every row; import all of them (new ones only) or, on any error, none.
    `data` is the file's bytes or the uploaded file itself (read up to the size limit)."""
    targets, errors = _parse(data, region)
    if errors:
        return ImportResult(errors=errors)
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
        if campaign is None:
            raise CampaignNotFound(f"no campaign {campaign_id}")
        if not control_applies(key="upload", state=campaign.state):
            raise InvalidState(f"a {campaign.state} campaign takes no more targets")
        for t in targets:
            t.campaign_id = campaign_id
        before = Target.objects.filter(campaign_id=campaign_id).count()
        Target.objects.bulk_create(targets, batch_size=2000, ignore_conflicts=True)
        created = Target.objects.filter(campaign_id=campaign_id).count() - before
        result = ImportResult(created=created, unchanged=len(targets) - created)
        audit.record(
            action="campaign.targets_imported",
            actor=actor,
            target=campaign,
            data={
                "rows": len(targets),
                "created": result.created,
                "unchanged": result.unchanged,
                "region": region,
            },
        )
    return result
