"""Targets in from CSV: every row checked first, then all rows in or none.

Columns: `phone` (required) plus any others, which become the target's template
variables. Numbers are normalised to E.164 (local numbers read in `region`).
Re-uploading the same file is a no-op: (campaign, phone) is unique and existing
targets are left as they are.
"""

import csv
import io
from dataclasses import dataclass, field

from django.db import transaction

import audit
from audit.verify_export import csv_escape, csv_unescape
from campaigns.errors import CampaignNotFound, InvalidState
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


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _parse(data: bytes, region: str) -> tuple[list[Target], list[RowError]]:
    if len(data) > MAX_BYTES:
        return [], [RowError(0, "", f"file larger than {MAX_BYTES // (1024 * 1024)} MB")]
    reader = csv.DictReader(io.StringIO(_decode(data)))
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "phone" not in headers:
        return [], [RowError(1, "", "no 'phone' column in the header row")]
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
        errors.append(RowError(2, "", "no rows"))
    return targets, errors


def targets_import(*, campaign_id: int, data: bytes, region: str, actor) -> ImportResult:
    """Validate every row; import all of them (new ones only) or, on any error, none."""
    targets, errors = _parse(data, region)
    if errors:
        return ImportResult(errors=errors)
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
        if campaign is None:
            raise CampaignNotFound(f"no campaign {campaign_id}")
        if campaign.state == Campaign.State.COMPLETED:
            raise InvalidState("the campaign is completed")
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
