"""Voucher preview: the `voucher-png` Edge Function renders the image and the portal hands
the bytes to the browser (never an EF address or key). When it cannot, the preview names the
runbook's error code and the page falls back to the code view (the code + a local QR code).

`integrations` owns the client and the degraded-mode hook (an open Voucher Preview incident
forces the code view through it); what a preview is and who may see one is ours.
"""

import base64
import io
import re
from dataclasses import dataclass

import qrcode
import qrcode.image.svg
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from integrations.clients.edge_functions import VoucherPngClient
from integrations.degraded import degraded_override
from integrations.errors import IntegrationError, NotConfigured, Timeout
from vouchers.models import PreviewFailure

PREVIEW_PERMISSION = "vouchers.preview_voucher"
VOUCHER_CODE = re.compile(r"^[!-~]{1,64}$")  # visible ASCII, like the codes we issue


class InvalidVoucherCode(ValueError):
    """Not something a voucher code can be: nothing is asked of the EF."""


@dataclass
class Preview:
    png: bytes | None = None
    # "not_configured" | "timeout" | "upstream_error" (runbooks.md) | "degraded" (forced)
    error: str = ""
    status: int | None = None
    code: str = ""  # the provider's code for an upstream error
    reason: str = ""  # why degraded mode is forced, e.g. "incident #12 is open"

    @property
    def png_data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png or b"").decode()


def voucher_preview(*, actor, code: str) -> Preview:
    """The voucher's PNG, or why there is none. PermissionDenied without the preview
    permission; InvalidVoucherCode for a malformed code (checked in that order)."""
    if not actor.has_perm(PREVIEW_PERMISSION):
        raise PermissionDenied("you may not preview vouchers")
    if not VOUCHER_CODE.match(code):
        raise InvalidVoucherCode("that is not a voucher code")
    preview = _render(code)
    if preview.error:
        preview_failure_record(actor=actor, code=code, preview=preview)
    return preview


def _render(code: str) -> Preview:
    forced = degraded_override(VoucherPngClient.service)
    if forced:
        return Preview(error="degraded", reason=forced)
    try:
        return Preview(png=VoucherPngClient().render(code=code))
    except NotConfigured:
        return Preview(error="not_configured")
    except Timeout:
        return Preview(error="timeout")
    except IntegrationError as exc:
        return Preview(error="upstream_error", status=exc.status, code=exc.code)


def preview_failure_record(*, actor, code: str, preview: Preview) -> PreviewFailure:
    """Keep the failed preview (code, error, who) for the incident's postmortem; vouchers
    knows nothing of incidents: the postmortem reads these by time."""
    return PreviewFailure.objects.create(
        at=timezone.now(),
        code=code[:64],
        error=preview.error,
        status=preview.status,
        provider_code=(preview.code or "")[:64],
        actor_name=actor.get_username() if getattr(actor, "is_authenticated", False) else "",
    )


def qr_svg(text: str) -> str:
    """A QR code for the code view, rendered locally (no outside service)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    out = io.BytesIO()
    image.save(out)
    svg = out.getvalue().decode()
    return svg[svg.index("<svg") :] if "<svg" in svg else svg
