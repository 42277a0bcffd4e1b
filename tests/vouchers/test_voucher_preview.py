"""Voucher preview: the PNG comes through the portal; failures name the runbook's error code."""

PREVIEW = "/admin/vouchers/voucher/preview/"


def test_preview_success_inlines_the_png(client_for, support_user, simulator):
    response = client_for(support_user).get(PREVIEW, {"code": "V-ABC-123"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-result="ok"' in html
    assert 'src="data:image/png;base64,iVBORw0KGgo' in html
    assert simulator.calls("voucher_png")[-1]["body"] == {"code": "V-ABC-123"}
    # The browser never sees the EF's address or keys.
    assert "sim-functions" not in html
    assert simulator.url not in html


def test_preview_not_configured_falls_back_to_code_view(client_for, support_user, settings):
    settings.SUPABASE_URL = ""
    settings.SUPABASE_FUNCTIONS_ENABLED = False
    html = (
        client_for(support_user)
        .get(PREVIEW, {"code": "V-ABC-123", "fragment": "1"})
        .content.decode()
    )
    assert 'data-result="not_configured"' in html
    assert '<code class="preview-error-code">not_configured</code>' in html
    assert 'class="voucher-code"' in html and "V-ABC-123" in html
    assert "<svg" in html  # the locally rendered QR code


def test_preview_timeout(client_for, support_user, simulator, settings):
    settings.INTEGRATIONS_READ_TIMEOUT = 0.3
    simulator.set_fault("voucher_png", hang=True)
    html = client_for(support_user).get(PREVIEW, {"code": "V-1"}).content.decode()
    assert '<code class="preview-error-code">timeout</code>' in html
    assert 'class="voucher-code"' in html


def test_preview_upstream_error_shows_status(client_for, support_user, simulator):
    simulator.set_fault("voucher_png", status=503)
    html = client_for(support_user).get(PREVIEW, {"code": "V-1"}).content.decode()
    assert '<code class="preview-error-code">upstream_error</code>' in html
    assert '<span class="preview-error-status">503</span>' in html


def test_preview_needs_the_preview_permission(client, django_user_model, simulator):
    user = django_user_model.objects.create_user("plain", password="x", is_staff=True)
    client.force_login(user)
    assert client.get(PREVIEW, {"code": "V-1"}).status_code == 403
    assert simulator.calls("voucher_png") == []


def test_preview_rejects_a_malformed_code(client_for, support_user, simulator):
    client = client_for(support_user)
    assert client.get(PREVIEW, {"code": ""}).status_code == 400
    assert client.get(PREVIEW, {"code": "x" * 65}).status_code == 400
    assert client.get(PREVIEW, {"code": "a b"}).status_code == 400
    assert simulator.calls("voucher_png") == []


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(PREVIEW, {"code": "V-1"})
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_voucher_admin_page_has_preview_button_and_code_view(
    client_for, support_user, voucher_factory, station_with_token
):
    station, _ = station_with_token
    voucher = voucher_factory(amount="7500", stations=[station])
    html = (
        client_for(support_user)
        .get(f"/admin/vouchers/voucher/{voucher.pk}/change/")
        .content.decode()
    )
    assert 'id="voucher-preview-open"' in html
    assert f"{PREVIEW}?code={voucher.code}" in html
    assert 'id="voucher-preview-dialog"' in html
    details = html.split('class="voucher-code-view-details"', 1)[1]
    assert voucher.code in details and "7500" in details and station.code in details
