"""One health probe per integration key of the status contract (contracts.md).

A probe is a plain callable returning a `ProbeOutcome`. Built-in probes call
our clients with the probe timeout; other apps add their own through
`register_probe` (campaigns registers `campaign_dispatcher` in its AppConfig.ready),
so integrations never imports them. An unregistered key reports red /
not_configured.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from integrations.clients.edge_functions import SendWhatsAppClient, VoucherPngClient
from integrations.clients.pagerduty import PagerDutyRestClient
from integrations.clients.secrets_manager import SecretsManagerClient
from integrations.clients.slack import SlackClient
from integrations.clients.supabase_management import SupabaseManagementClient
from integrations.clients.vercel import VercelClient
from integrations.errors import (
    IntegrationError,
    NotConfigured,
    RateLimited,
    Rejected,
    Timeout,
    Unavailable,
)

GREEN, AMBER, RED = "green", "amber", "red"
STATE_RANK = {GREEN: 0, AMBER: 1, RED: 2}
REASONS = (
    "ok",
    "slow",
    "not_configured",
    "timeout",
    "unreachable",
    "http_error",
    "rate_limited",
    "stalled",
    "not_verifiable",
)


@dataclass
class ProbeOutcome:
    state: str
    reason: str
    detail: str = ""
    latency_ms: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. {"queue_length": 12}


@dataclass
class Probe:
    key: str
    label: str
    func: Callable[[], ProbeOutcome]
    # Local probes (database reads) run in the caller's thread, network probes in parallel.
    local: bool = False
    extra_keys: tuple[str, ...] = ()


_registry: dict[str, Probe] = {}


def register_probe(
    key: str,
    func: Callable[[], ProbeOutcome],
    *,
    label: str | None = None,
    local: bool = True,
    extra_keys: tuple[str, ...] = (),
) -> None:
    """Add or replace the probe for `key` (idempotent, safe to call from AppConfig.ready)."""
    existing = _registry.get(key)
    _registry[key] = Probe(
        key=key,
        label=label or (existing.label if existing else key.replace("_", " ").title()),
        func=func,
        local=local,
        extra_keys=extra_keys or (existing.extra_keys if existing else ()),
    )


def registered_probes() -> list[Probe]:
    return list(_registry.values())


def probe_timeout() -> float:
    return float(settings.INTEGRATIONS_PROBE_TIMEOUT)


def outcome_from_error(exc: Exception, latency_ms: int | None = None) -> ProbeOutcome:
    """Map a typed error to state/reason; the detail carries status and provider code only."""
    if isinstance(exc, NotConfigured):
        return ProbeOutcome(RED, "not_configured", str(exc))
    if isinstance(exc, Timeout):
        return ProbeOutcome(RED, "timeout", f"no answer within {probe_timeout():g} s", latency_ms)
    if isinstance(exc, RateLimited):
        wait = f", retry after {exc.retry_after:g} s" if exc.retry_after is not None else ""
        return ProbeOutcome(
            AMBER, "rate_limited", f"rate limited (code {exc.code}){wait}", latency_ms
        )
    if isinstance(exc, Unavailable) and exc.status is None and not exc.code:
        return ProbeOutcome(RED, "unreachable", "connection failed", latency_ms)
    if isinstance(exc, Unavailable | Rejected):
        status = f"HTTP {exc.status}" if exc.status is not None else "error"
        code = f" ({exc.code})" if exc.code and exc.code != str(exc.status) else ""
        return ProbeOutcome(RED, "http_error", f"{status}{code}", latency_ms)
    if isinstance(exc, IntegrationError):
        return ProbeOutcome(RED, "http_error", exc.code or type(exc).__name__, latency_ms)
    return ProbeOutcome(RED, "http_error", f"probe failed: {type(exc).__name__}", latency_ms)


def timed(call: Callable[[], Any], ok_detail: str = "ok") -> ProbeOutcome:
    """Run a client call; green when it answers in time, amber `slow` past the slow mark."""
    started = time.monotonic()
    try:
        result = call()
    except Exception as exc:  # every failure becomes a red/amber tile, never a 500
        return outcome_from_error(exc, int((time.monotonic() - started) * 1000))
    latency_ms = int((time.monotonic() - started) * 1000)
    if isinstance(result, ProbeOutcome):
        result.latency_ms = latency_ms
        return result
    if latency_ms > settings.INTEGRATIONS_PROBE_SLOW_MS:
        return ProbeOutcome(AMBER, "slow", f"answered in {latency_ms} ms", latency_ms)
    return ProbeOutcome(GREEN, "ok", ok_detail, latency_ms)


def _timeouts() -> dict[str, float]:
    t = probe_timeout()
    return {"connect_timeout": min(settings.INTEGRATIONS_CONNECT_TIMEOUT, t), "read_timeout": t}


# --- built-in probes -----------------------------------------------------------------


def probe_voucher_png() -> ProbeOutcome:
    return timed(
        lambda: VoucherPngClient(**_timeouts()).render(code="PROBE-0000"), "rendered a PNG"
    )


def probe_whatsapp() -> ProbeOutcome:
    # A GET: proves deployment and key without sending a message.
    return timed(lambda: SendWhatsAppClient(**_timeouts()).ping(), "function reachable")


def probe_supabase_management() -> ProbeOutcome:
    def check():
        functions = SupabaseManagementClient(**_timeouts()).functions()
        bad = {f.get("slug"): f.get("status") for f in functions if f.get("status") != "ACTIVE"}
        if any(status != "THROTTLED" for status in bad.values()):  # REMOVED or unknown
            return ProbeOutcome(RED, "http_error", _describe(bad))
        if bad:
            return ProbeOutcome(AMBER, "rate_limited", _describe(bad))
        return ProbeOutcome(GREEN, "ok", f"{len(functions)} functions ACTIVE")

    return timed(check)


def _describe(statuses: dict) -> str:
    return ", ".join(f"{slug} {status}" for slug, status in sorted(statuses.items()))


def probe_vercel() -> ProbeOutcome:
    return timed(lambda: VercelClient(**_timeouts()).project_get(), "project reachable")


def probe_pagerduty() -> ProbeOutcome:
    if (
        not settings.PAGERDUTY_API_KEY
        and settings.PAGERDUTY_ENABLED
        and settings.PAGERDUTY_ROUTING_KEY
    ):
        # Events v2 has no read-only endpoint; sending a test event would page someone.
        # Never green without a call: amber until a REST key lets the probe really ask.
        return ProbeOutcome(
            AMBER,
            "not_verifiable",
            "configured, not verifiable: only a routing key is set (set PAGERDUTY_API_KEY "
            "for a real check)",
        )
    return timed(lambda: PagerDutyRestClient(**_timeouts()).abilities(), "REST API reachable")


def probe_slack() -> ProbeOutcome:
    return timed(lambda: SlackClient(**_timeouts()).auth_test(), "token valid")


def probe_secrets_manager() -> ProbeOutcome:
    secret = settings.SECRETS_MANAGER_PROBE_SECRET
    # describe_secret reads metadata only: the probe never fetches a secret value.
    return timed(lambda: SecretsManagerClient(**_timeouts()).describe(secret), f"{secret} readable")


def probe_campaign_dispatcher_missing() -> ProbeOutcome:
    return ProbeOutcome(
        RED,
        "not_configured",
        "the campaigns app has not registered a probe",
        extra={"queue_length": None},
    )


register_probe("voucher_png", probe_voucher_png, label="Voucher PNG", local=False)
register_probe("whatsapp", probe_whatsapp, label="WhatsApp send", local=False)
register_probe(
    "campaign_dispatcher",
    probe_campaign_dispatcher_missing,
    label="Campaign dispatcher",
    local=True,
    extra_keys=("queue_length",),
)
register_probe("pagerduty", probe_pagerduty, label="PagerDuty", local=False)
register_probe("slack", probe_slack, label="Slack", local=False)
register_probe("secrets_manager", probe_secrets_manager, label="AWS Secrets Manager", local=False)
register_probe("vercel", probe_vercel, label="Vercel", local=False)
register_probe(
    "supabase_management", probe_supabase_management, label="Supabase Management", local=False
)
