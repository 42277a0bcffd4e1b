"""Voucher preview through the portal: the browser gets the PNG bytes, never an EF key."""

import base64
import io
from dataclasses import dataclass

from integrations.clients.edge_functions import VoucherPngClient
from integrations.degraded import degraded_override
from integrations.errors import IntegrationError, NotConfigured, Timeout


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


def voucher_preview(*, code: str) -> Preview:
    forced = degraded_override("voucher_png")
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


def qr_svg(text: str) -> str:
    """A QR code for the code view, rendered locally (no outside service)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    out = io.BytesIO()
    image.save(out)
    svg = out.getvalue().decode()
    return svg[svg.index("<svg") :] if "<svg" in svg else svg
