"""The hook a strict simulator calls: check what it received, and what it is about to answer.

The simulator serves every vendor on one port under a prefix per service and hands its
route handlers the path after that prefix. `SIMULATED` maps each simulator service to
the contract it speaks and the vendor path its prefix stands for, so the simulator can
call, before its handler runs:

    check = simulated_request_check(service, method=…, path=…, query=…, headers=…, body=…)
    if check.refusal:                       # the vendor would refuse this request
        status, body = check.refusal        # …so answer exactly as the vendor documents

and, after it, `simulated_response_violations(...)` to prove its own answer is one the
vendor documents. (The simulator passes `body=None` for "no body".)
"""

from dataclasses import dataclass
from typing import Any

from integrations.contracts.refusal import refusal_for
from integrations.contracts.validate import NO_BODY, Violation, check_request, check_response

# simulator service → (contract, path prefix to strip, vendor path prefix to put back):
# e.g. the simulator hands voucher-png's handler "/", which is the vendor's
# "/functions/v1/voucher-png"; Slack's handler gets "/api/chat.postMessage" for the
# vendor's "/chat.postMessage" (the vendor's server is https://slack.com/api).
SIMULATED: dict[str, tuple[str, str, str]] = {
    "voucher_png": ("supabase_project", "", "/functions/v1/voucher-png"),
    "whatsapp": ("supabase_project", "", "/functions/v1/send-whatsapp"),
    "supabase_auth": ("supabase_project", "", "/auth/v1"),
    "supabase_management": ("supabase_management", "", ""),
    "vercel": ("vercel", "", ""),
    "pagerduty": ("pagerduty_rest", "", ""),
    "pagerduty_events": ("pagerduty_events", "", ""),
    "slack": ("slack", "/api", ""),
}


@dataclass(frozen=True)
class SimulatedCheck:
    vendor: str
    path: str  # the vendor's own path
    violations: list[Violation]
    refusal: tuple[int, Any] | None  # (status, body) to answer with, None when valid


def _vendor_path(service: str, path: str) -> tuple[str, str]:
    vendor, strip, put_back = SIMULATED[service]
    rest = path.removeprefix(strip) if strip else path
    if put_back and rest in ("", "/"):
        rest = ""
    return vendor, f"{put_back}{rest}" or "/"


def simulated_request_check(
    service: str,
    *,
    method: str,
    path: str,
    query: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    body: Any = None,
) -> SimulatedCheck:
    vendor, vendor_path = _vendor_path(service, path)
    violations = check_request(
        vendor,
        method=method,
        path=vendor_path,
        query=query,
        headers=headers,
        body=NO_BODY if body is None else body,
    )
    refusal = refusal_for(vendor, method, vendor_path, violations) if violations else None
    return SimulatedCheck(vendor, vendor_path, violations, refusal)


def simulated_response_violations(
    service: str,
    *,
    method: str,
    path: str,
    status: int,
    headers: dict[str, str] | None = None,
    body: Any = None,
) -> list[Violation]:
    vendor, vendor_path = _vendor_path(service, path)
    return check_response(
        vendor, method=method, path=vendor_path, status=status, headers=headers, body=body
    )
