"""A verification result (VerifyResult.as_dict(), as stored on a run) in plain sentences:
what `verify_audit` prints and what the Verify page shows."""

from datetime import datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.timesince import timesince


def _age(when: str, now: datetime) -> str:
    moment = parse_datetime(when)
    if moment is None:
        return when
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC ({timesince(moment, now)} ago)"


def problem_lines(result: dict) -> list[str]:
    lines = []
    for p in result.get("problems", []):
        detail = f" expected {p['expected']}" if p["expected"] else ""
        detail += f" found {p['found']}" if p["found"] else ""
        lines.append(f"BROKEN at entry {p['entry_id']}: {p['what']}{detail}")
    if result.get("anchor_error"):
        lines.append(f"INCOMPLETE: the anchor store could not be read: {result['anchor_error']}")
    return lines


def summary_lines(result: dict, now: datetime | None = None) -> list[str]:
    now = now or timezone.now()
    start = f"from entry {result['start_id'] + 1}" if result["start_id"] else "from the start"
    verified = "OK" if result["ok"] else "checked before the first problem"
    lines = [
        f"{verified}: {result['checked']} entries verified ({start}); head entry "
        f"{result['head_id']} hash {result['head_hash']}; {result['unsealed']} newer entries "
        "not sealed yet"
    ]
    if result["checkpoints"]:
        keys = ", ".join(result["key_ids"])
        numbers = "#1" if result["checkpoints"] == 1 else f"#1-#{result['checkpoints']}"
        lines.append(
            f"checkpoints: {numbers} in sequence, linked, signatures valid (key ids: {keys})"
        )
    else:
        lines.append("checkpoints: none signed yet")
    if result["legacy_verified"]:
        lines.append(
            f"legacy checkpoints: {result['legacy_verified']} (HMAC, before numbering) "
            "verified with AUDIT_CHECKPOINT_KEY"
        )
    if result["legacy_unverified"]:
        lines.append(
            f"legacy checkpoints: {result['legacy_unverified']} (HMAC, before numbering) "
            "not verified, AUDIT_CHECKPOINT_KEY is not set"
        )
    if not result["anchor_store"]:
        lines.append(
            "anchor store: NOT CONFIGURED (AUDIT_ANCHOR_URL): nothing outside the database "
            "protects the log from a database superuser"
        )
    elif not result["anchor_error"]:
        held = ", each present and identical in the database" if result["ok"] else " matched"
        lines.append(
            f"anchor store: {result['anchor_store']}: {result['anchors']} anchored "
            f"checkpoint(s){held}"
        )
    anchor = result["last_anchor"]
    if anchor:
        lines.append(
            f"last anchor: checkpoint #{anchor['number']} at entry {anchor['entry_id']}, "
            f"written {_age(anchor['written_at'], now)}"
        )
    elif result["anchor_store"]:
        lines.append("last anchor: none yet")
    window = result["window"]
    if window.get("entries"):
        unsealed = f", {window['unsealed']} not sealed yet" if window["unsealed"] else ""
        span = (
            f"entry {window['first']}"
            if window["first"] == window["last"]
            else f"entries {window['first']}-{window['last']}"
        )
        count = window["entries"]
        newer = (
            f"{count} newer than entry {window['after_entry']}"
            if window["after_entry"]
            else f"{count} entries, none anchored yet"
        )
        lines.append(f"NOT YET PROTECTED by an anchor: {span} ({newer}{unsealed})")
    else:
        lines.append("not yet protected by an anchor: none, every entry is covered")
    return lines
