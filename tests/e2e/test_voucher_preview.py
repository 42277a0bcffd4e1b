"""Voucher preview from the voucher page: the EF's PNG when it is healthy; when it hangs,
the runbook's `timeout` and the code view (code + QR) instead, within the client timeout."""

from tests.e2e import seed
from vouchers.models import Voucher


def _open_preview(page):
    page.click("#voucher-preview-open")
    dialog = page.locator("#voucher-preview-dialog")
    dialog.wait_for(state="visible")
    result = dialog.locator(".voucher-preview")
    result.wait_for(state="visible", timeout=20_000)
    return dialog, result


def test_preview_shows_the_png_then_timeout_and_code_view(login, portal, shot):
    voucher = Voucher.objects.order_by("id").first()
    page = login("sam-support")
    # Healthy first: a fresh probe (so no detector sees an earlier flow's red), and no open
    # Voucher Preview incident (while one is open, previews stay in code view on purpose).
    assert page.request.get(portal("/api/integrations/status?force=true")).ok
    seed.incidents_resolve(runbook_key="voucher_preview")
    page.goto(portal(f"/admin/vouchers/voucher/{voucher.pk}/change/"))

    dialog, result = _open_preview(page)
    assert result.get_attribute("data-result") == "ok"
    png = dialog.locator("img.voucher-png")
    png.wait_for(state="visible")
    assert png.evaluate("img => img.complete && img.naturalWidth > 0")
    assert dialog.locator(".preview-error").count() == 0
    shot(page, "png")
    page.evaluate("window.stillThisPage = true")  # any navigation (a submit) would drop it
    dialog.locator("button.voucher-preview-close").click()
    dialog.wait_for(state="hidden")
    assert page.evaluate("window.stillThisPage === true")  # Close closed; it submitted nothing

    portal.sim.set_fault("voucher_png", hang=True, hang_seconds=30)
    dialog, result = _open_preview(page)
    assert result.get_attribute("data-result") == "timeout"
    assert dialog.locator(".preview-error-code").inner_text() == "timeout"
    assert dialog.locator(".voucher-code").inner_text().strip() == voucher.code
    assert dialog.locator(".voucher-qr svg").is_visible()
    assert dialog.locator("img.voucher-png").count() == 0
    shot(page, "timeout-code-view")
    page.keyboard.press("Escape")  # the dialog's own keyboard close
    dialog.wait_for(state="hidden")
