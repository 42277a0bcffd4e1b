"""The auditor's browser: a lean list, an entry page and the export, under the admin site.

Read-only: GET only, the view permission to look, the export permission to export.
Every page costs a fixed number of queries whatever the table size.
"""

import json
from html import escape  # the stdlib one: plain str in, no lazy/SafeString overhead per cell

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

import audit
from audit import selectors
from audit.export import csv_lines, jsonl_lines
from audit.forms import CursorError, EntryFilterForm, decode_cursor, encode_cursor

VIEW_PERM = "audit.view_auditentry"
EXPORT_PERM = "audit.export_auditentry"


def _context(request, **extra) -> dict:
    site = admin.site
    # The nav sidebar lists every app (permission checks, many URL reversals) on each
    # page; the browser leaves it out to stay lean.
    return {
        "site_header": site.site_header,
        "site_title": site.site_title,
        "site_url": site.site_url,
        "has_permission": True,
        "is_nav_sidebar_enabled": False,
        "is_popup": False,
        **extra,
    }


_INPUTS = {  # name -> (datalist id, placeholder)
    "actor": ("audit-actors", ""),
    "action": ("audit-actions", ""),
    "target_type": ("audit-target-types", "app.model"),
    "since": ("", "YYYY-MM-DD [HH:MM]"),
    "until": ("", "YYYY-MM-DD [HH:MM]"),
}


def _filter_fields(form: EntryFilterForm) -> list[tuple]:
    return [
        (
            name,
            form.fields[name].label or name.replace("_", " ").capitalize(),
            form.data.get(name, ""),
            form.errors.get(name, ()),
            *_INPUTS.get(name, ("", "")),
        )
        for name in EntryFilterForm.FILTER_NAMES
    ]


def _parse(request) -> tuple[EntryFilterForm, dict] | None:
    form = EntryFilterForm(request.GET)
    return (form, form.cleaned_data) if form.is_valid() else None


def _rows_html(rows: list[dict]) -> str:
    """The table body, built in Python: the page's only per-row work, kept to string joins
    (a template loop with {% url %} and filters per cell costs more than all the queries)."""
    entry_base = reverse("admin:audit_auditentry_browse")
    out = []
    for row in rows:
        target = ""
        if row["target_type"]:
            query = escape(
                urlencode({"target_type": row["target_type"], "target_id": row["target_id"]})
            )
            target = (
                f'<a href="?{query}">{escape(row["target_type"])} '
                f"{escape(row['target_id'])}</a> {escape(row['target_repr'])}"
            )
        incident = row["incident_id"]
        out.append(
            f'<tr><td><a href="{entry_base}{row["id"]}/">{row["id"]}</a></td>'
            f"<td>{row['at']:%Y-%m-%d %H:%M:%S}</td><td>{escape(row['actor_name'])}</td>"
            f"<td>{escape(row['action'])}</td><td>{target}</td>"
            f'<td>{f"""<a href="?incident={incident}">{incident}</a>""" if incident else ""}</td>'
            "</tr>"
        )
    return "".join(out)


def _query(filters: dict, **extra) -> str:
    return urlencode({k: v for k, v in {**filters, **extra}.items() if v not in (None, "")})


@require_GET
def browse(request):
    if not request.user.has_perm(VIEW_PERM):
        raise PermissionDenied
    form = EntryFilterForm(request.GET)
    if not form.is_valid():
        return TemplateResponse(
            request,
            "audit/browse.html",
            _context(request, title="Audit log", form=form, filter_fields=_filter_fields(form)),
            status=400,
        )
    try:
        before = decode_cursor(request.GET["before"]) if request.GET.get("before") else None
        after = decode_cursor(request.GET["after"]) if request.GET.get("after") else None
    except CursorError:
        return HttpResponseBadRequest("invalid page cursor")
    page = selectors.audit_entries_page(filters=form.cleaned_data, before=before, after=after)
    active = form.active_filters()
    context = _context(
        request,
        title="Audit log",
        form=form,
        filter_fields=_filter_fields(form),
        page=page,
        rows_html=mark_safe(_rows_html(page.rows)),  # every value escaped in _rows_html
        choices=selectors.audit_filter_choices(),
        estimate=None if active else selectors.audit_estimated_total(),
        filter_query=_query(active),
        older_query=_query(active, before=page.older and encode_cursor(*page.older)),
        newer_query=_query(active, after=page.newer and encode_cursor(*page.newer)),
        can_export=request.user.has_perm(EXPORT_PERM),
    )
    return TemplateResponse(request, "audit/browse.html", context)


def _target_url(target_type: str, target_id: str) -> str | None:
    app_label, _, model = target_type.partition(".")
    if not (app_label and model and target_id):
        return None
    try:
        return reverse(f"admin:{app_label}_{model}_change", args=[target_id])
    except NoReverseMatch:
        return None


@require_GET
def entry(request, entry_id: int):
    if not request.user.has_perm(VIEW_PERM):
        raise PermissionDenied
    found = selectors.audit_entry_detail(entry_id=entry_id)
    if found is None:
        raise Http404("No such audit entry.")
    item, seal = found
    incident_url = None
    if item.incident_id:
        try:
            incident_url = reverse("admin:incidents_incident_change", args=[item.incident_id])
        except NoReverseMatch:
            incident_url = None
    context = _context(
        request,
        title=f"Audit entry #{item.id}",
        entry=item,
        seal=seal,
        data_json=json.dumps(item.data, indent=2, sort_keys=True, ensure_ascii=False),
        target_url=_target_url(item.target_type, item.target_id),
        incident_url=incident_url,
        target_query=_query({"target_type": item.target_type, "target_id": item.target_id}),
        incident_query=_query({"incident": item.incident_id}),
        actor_query=_query({"actor": item.actor_name}),
    )
    return TemplateResponse(request, "audit/entry.html", context)


@require_GET
def export(request, fmt: str):
    if not request.user.has_perm(EXPORT_PERM):
        raise PermissionDenied
    if fmt not in ("csv", "jsonl"):
        raise Http404("Unknown export format.")
    parsed = _parse(request)
    if parsed is None:
        return HttpResponseBadRequest("invalid filters")
    form, filters = parsed
    audit.record(
        action="audit.exported",
        actor=request.user,
        data={"format": fmt, "filters": form.active_filters()},
    )
    rows = selectors.audit_export_rows(filters=filters)
    lines = csv_lines(rows) if fmt == "csv" else jsonl_lines(rows)
    content_type = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson"
    response = StreamingHttpResponse(lines, content_type=content_type)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.{fmt}"'
    return response
