"""The Verify page for auditors: run the verification, read its result, take the tools away.

Everything needs `audit.verify_auditlog` (auditor and admin). The button queues a
django-q2 task (one run at a time); the page shows the latest runs with the last
anchored checkpoint and the window not yet protected. The downloads (the offline
verifier, the public keys, the checkpoints) are each audited.
"""

import json
from pathlib import Path

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

import audit
import audit.verify_export
from audit.checkpoints import checkpoint_record
from audit.models import AuditCheckpoint
from audit.signing import SigningKeyError, verify_keys
from audit.verify_report import problem_lines, summary_lines
from audit.verify_runs import (
    VERIFY_PERM,
    audit_verify_run_in_flight,
    audit_verify_run_request,
    audit_verify_runs_recent,
)


def _require(request) -> None:
    if not request.user.has_perm(VERIFY_PERM):
        raise PermissionDenied


def _context(request, **extra) -> dict:
    return {**admin.site.each_context(request), **extra}


@require_http_methods(["GET", "POST"])
def verify(request):
    _require(request)
    if request.method == "POST":
        run, queued = audit_verify_run_request(actor=request.user)
        if queued:
            messages.success(request, f"Verification #{run.id} queued; this page shows it.")
        else:
            messages.info(request, f"Verification #{run.id} is already under way.")
        return redirect("admin:audit_auditentry_verify")
    runs = audit_verify_runs_recent()
    latest = runs[0] if runs else None
    in_flight = audit_verify_run_in_flight()
    done = latest if latest and latest.result and "ok" in latest.result else None
    context = _context(
        request,
        title="Verify the audit log",
        runs=runs,
        latest=latest,
        problems=problem_lines(done.result) if done else [],
        summary=summary_lines(done.result) if done else [],
        error=latest.result.get("error", "") if latest else "",
        under_way=in_flight is not None,
        # Queued or running for longer than a task may take: its worker stopped.
        stalled=bool(latest and latest.status in ("queued", "running") and in_flight is None),
    )
    return TemplateResponse(request, "audit/verify.html", context)


@require_GET
def verifier(request):
    _require(request)
    audit.record(action="audit.verifier_downloaded", actor=request.user)
    script = Path(audit.verify_export.__file__)
    response = FileResponse(open(script, "rb"), content_type="text/x-python; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="verify_export.py"'
    return response


@require_GET
def public_keys(request):
    _require(request)
    import base64

    try:
        keys = {k: base64.b64encode(v).decode() for k, v in sorted(verify_keys().items())}
    except SigningKeyError:
        return HttpResponse("The audit keys are misconfigured (see the system checks).", status=503)
    audit.record(action="audit.public_keys_exported", actor=request.user, data={"keys": list(keys)})
    response = HttpResponse(json.dumps(keys, indent=1) + "\n", content_type="application/json")
    response["Content-Disposition"] = 'attachment; filename="audit-public-keys.json"'
    return response


@require_GET
def checkpoints(request):
    _require(request)
    audit.record(action="audit.checkpoints_exported", actor=request.user)
    rows = AuditCheckpoint.objects.filter(number__isnull=False).order_by("number")
    lines = (
        json.dumps(checkpoint_record(cp), sort_keys=True) + "\n"
        for cp in rows.iterator(chunk_size=2000)
    )
    response = StreamingHttpResponse(lines, content_type="application/x-ndjson")
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="audit-checkpoints-{stamp}.jsonl"'
    return response
