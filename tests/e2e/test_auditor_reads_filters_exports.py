"""The auditor filters the audit log, exports what the filter shows, and finds no edit control
anywhere in the portal: every page reachable from the front page is crawled."""

import csv
import io
import re
from urllib.parse import urlsplit

from django.core.management import call_command

from tests.e2e import seed

# Account pages are the auditor's own (change password, log out), not the portal's data.
NOT_DATA = ("/admin/logout/", "/admin/password_change/", "/admin/jsi18n/")
EDIT_CONTROLS = (
    ".addlink, .changelink, .deletelink, input[name=_save], input[name=_continue], "
    "select[name=action], a.historylink ~ a.addlink"
)
# A form that writes = a POST form someone can submit (the admin's changelist wraps every
# list in a POST form, which without actions or editable columns has nothing to submit).
# The Verify page's button is not one: a verification reads the log and changes no data.
POST_FORMS = (
    "() => [...document.querySelectorAll('form')]"
    ".filter(f => f.method.toLowerCase() === 'post' && f.id !== 'logout-form'"
    " && f.id !== 'verify-run')"
    ".filter(f => [...f.querySelectorAll('input[type=submit], input[type=image], "
    "button:not([type=button]):not([type=reset])')].some(b => b.checkVisibility()))"
    ".map(f => f.getAttribute('action') || location.pathname)"
)


def test_auditor_filters_and_exports_the_audit_log(login, portal, shot, tmp_path):
    seed.whatsapp_incident(dedup_key="e2e-audit-1", title="Audit flow incident")
    with open("/dev/null", "w") as quiet:
        call_command("seal_audit", stdout=quiet)  # the export carries sealed entries

    page = login("aud-auditor")
    page.click("#content-main .app-audit a[href$='/admin/audit/auditentry/']")
    page.click("text=Auditor's browser")
    page.fill("#id_actor", "sam-support")
    page.fill("#id_action", "incident.opened")
    page.click(".audit-filters input[type=submit]")
    page.wait_for_url(re.compile(r".*actor=sam-support.*"))
    rows = page.locator("table.audit tbody tr")
    assert rows.count() >= 1
    for i in range(rows.count()):
        cells = rows.nth(i).locator("td")
        assert cells.nth(2).inner_text() == "sam-support"
        assert cells.nth(3).inner_text() == "incident.opened"
    shot(page, "filtered")

    with page.expect_download() as download_info:
        page.click("a[href*='export.csv']")
    download = download_info.value
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    records = list(csv.DictReader(io.StringIO(path.read_text())))
    assert records, "the export of a non-empty filter is not empty"
    assert {r["actor_name"] for r in records} == {"sam-support"}
    assert {r["action"] for r in records} == {"incident.opened"}
    assert len(records) == rows.count()


def _normal(path: str) -> str:
    return re.sub(r"/\d+/", "/N/", path)


def test_auditor_sees_no_edit_controls_anywhere(login, portal, shot):
    incident = seed.whatsapp_incident(dedup_key="e2e-audit-2", title="Incident the auditor reads")
    page = login("aud-auditor")
    start = [
        "/admin/",
        f"/admin/incidents/incident/{incident.pk}/work/",
        "/admin/audit/auditentry/browse/",
    ]
    queue = [(path, "start") for path in start]
    seen, visited, refused = set(), [], []
    while queue and len(visited) < 20:
        path, linked_from = queue.pop(0)
        if _normal(path) in seen:
            continue
        seen.add(_normal(path))
        response = page.goto(portal(path))
        if response.status == 403 and linked_from != "start":
            refused.append((path, linked_from))  # a link the auditor may not follow: no controls
            continue
        assert response.status == 200, (path, response.status)
        visited.append(path)
        controls = page.eval_on_selector_all(  # hidden ones (a view-only inline's) do not count
            EDIT_CONTROLS,
            "els => els.filter(e => e.checkVisibility()).map(e => e.outerHTML.slice(0, 200))",
        )
        assert controls == [], (path, "edit control")
        assert page.evaluate(POST_FORMS) == [], (path, "a form that writes")
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
            link = urlsplit(href)
            if link.netloc != urlsplit(portal.url).netloc or not link.path.startswith("/admin/"):
                continue
            if (
                link.path.startswith(NOT_DATA)
                or "export" in link.path
                or link.path.endswith((".md", ".csv", ".jsonl"))
            ):
                continue
            if _normal(link.path) not in seen:
                queue.append((link.path, path))
    print("auditor crawl:", len(visited), "pages; links answering 403:", refused)
    shot(page, "last-page-crawled")
    assert len(visited) >= 10, visited  # the crawl went through the portal, not one page
