"""Who may read /metrics (the web's and the workers' exporter alike).

A scraper either presents `Authorization: Bearer <METRICS_TOKEN>` or connects from an
address in METRICS_ALLOWED_IPS (addresses or networks). An address only counts for a
request that came straight to us: one relayed by a proxy (X-Forwarded-For set, as our
nginx does) would otherwise borrow the proxy's loopback address. Everyone else gets a
404, as if there were nothing here; a wrong token gets a 403.
"""

import hmac
import ipaddress
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=8)
def _networks(allowed: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in allowed if value)


def _address_allowed(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in _networks(tuple(settings.METRICS_ALLOWED_IPS)))


def metrics_access(meta: dict) -> int:
    """200 (scrape away), 403 (a token, but not ours) or 404 (nothing for you here)."""
    authorization = meta.get("HTTP_AUTHORIZATION", "")
    if authorization:
        token = settings.METRICS_TOKEN
        scheme, _, presented = authorization.partition(" ")
        if token and scheme.lower() == "bearer" and hmac.compare_digest(presented.strip(), token):
            return 200
        return 403
    if "HTTP_X_FORWARDED_FOR" not in meta and _address_allowed(meta.get("REMOTE_ADDR", "")):
        return 200
    return 404
