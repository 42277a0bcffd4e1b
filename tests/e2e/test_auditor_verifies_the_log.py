"""The auditor verifies the audit log from the browser: the button queues a verification the
worker runs, the page shows the verdict, the last anchor and the window not yet protected;
the downloads let the auditor verify the same log offline with the one-file script."""

import subprocess
import sys

from django.core.management import call_command

from tests.e2e import seed


def _download(page, selector: str, folder):
    with page.expect_download() as info:
        page.click(selector)
    path = folder / info.value.suggested_filename
    info.value.save_as(path)
    return path


def test_auditor_verifies_the_log_online_and_offline(login, portal, worker, shot, tmp_path):
    seed.whatsapp_incident(dedup_key="e2e-verify-1", title="Incident before the verification")
    with open("/dev/null", "w") as quiet:
        call_command("seal_audit", stdout=quiet)  # sealed, signed, anchored

    page = login("aud-auditor")
    page.goto(portal("/admin/audit/auditentry/"))
    page.click("text=Verify the log")
    page.wait_for_url(portal("/admin/audit/auditentry/verify/"))
    page.click("#verify-run input[type=submit]")
    # The page reloads itself while the worker runs the verification.
    page.wait_for_selector("#verify-status.verify-ok", timeout=90_000)
    summary = page.inner_text("#verify-summary")
    assert "OK:" in summary and "in sequence, linked, signatures valid" in summary
    assert "each present and identical in the database" in summary
    assert "last anchor: checkpoint #" in summary
    assert "NOT YET PROTECTED by an anchor" in summary  # at least the request's own entry
    shot(page, "verified")

    verifier = _download(page, "#verify-downloads a[href$='verify_export.py']", tmp_path)
    keys = _download(page, "#verify-downloads a[href$='public-keys.json']", tmp_path)
    checkpoints = _download(page, "#verify-downloads a[href$='checkpoints.jsonl']", tmp_path)
    export = _download(page, "#verify-downloads a[href$='export.jsonl']", tmp_path)
    offline = subprocess.run(
        [sys.executable, str(verifier), "--checkpoints", checkpoints, "--keys", keys, export],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert offline.returncode == 0, offline.stdout + offline.stderr
    assert "signed checkpoint(s) match" in offline.stdout
