"""The simulator's memory: switchable faults, sends per idempotency key, and a call log.

Everything sits behind one lock; the HTTP handlers and the in-process test
helpers both go through `SimulatorState`, so what a test sets is exactly what
the next request sees.
"""

import threading
import time
from collections import deque
from typing import Any

SERVICES = (
    "voucher_png",
    "whatsapp",
    "supabase_management",
    "supabase_auth",
    "vercel",
    "pagerduty",
    "pagerduty_events",
    "slack",
)
FAULT_FIELDS = {
    "latency_ms",  # delay every answer this long
    "hang",  # never answer (until reset/stop or `hang_seconds`)
    "hang_seconds",
    "status",  # answer with this HTTP status (5xx, 429, 4xx)
    "retry_after",  # Retry-After header (seconds) with `status` 429 or a WhatsApp code
    "wa_code",  # WhatsApp error code relayed by send-whatsapp (130429, 131056, 131026, ...)
    "wa_status",  # HTTP status carrying `wa_code`: 429 or 400 (default 400)
    "numbers",  # restrict `wa_code` / `invalid_numbers` to these recipients ("*" = all)
    "invalid_numbers",  # recipients answered as invalid ("*" = all)
    "invalid_mode",  # "422" → 422 {"error": "invalid_number"}; "131026" → 400 WhatsApp 131026
    "revoked",  # the key was revoked: 401 (403 on Vercel, ok:false invalid_auth on Slack)
    "slack_error",  # Slack answers HTTP 200 {"ok": false, "error": <this>}
    "error_code",  # with `status`: the vendor's code in the error body (Vercel error.code,
    # PagerDuty error.code, Slack error) or the Edge Functions' sb-error-code header
    "times",  # apply this fault to the next N matching requests only
}
SENSITIVE_HEADERS = {"authorization", "apikey", "x-api-key"}
MAX_LOG = 100_000


class SimulatorState:
    def __init__(self):
        self._lock = threading.Lock()
        self._release = threading.Event()
        self.reset()

    # --- control ------------------------------------------------------------------

    def reset(self) -> None:
        with self._lock:
            self.faults: dict[str, dict[str, Any]] = {}
            self.sends: dict[str, dict[str, Any]] = {}  # idempotency_key → {message_id, count}
            self.duplicates: dict[str, int] = {}
            self.send_log: deque[dict] = deque(maxlen=MAX_LOG)
            self.calls: deque[dict] = deque(maxlen=MAX_LOG)
            self.function_status: dict[str, str] = {}
            self.secrets: dict[str, str] = {}
            self.api_keys: dict[str, dict] = {}
            self.legacy_keys_enabled = True
            self.vercel_env: dict[str, dict] = {}
            self.vercel_projects: dict[str, dict] = {}  # name → {id, name, production}
            self.deployments: dict[str, dict] = {}
            self.deploy_result = "READY"
            self.pd_incidents: dict[str, dict] = {}  # PagerDuty incidents by id
            self.contract_violations: list[str] = []  # answers the vendor never gives
            self._next_id = 0
        self.release_hangs()

    def release_hangs(self) -> None:
        """Wake every hung request (they answer 504), then arm a fresh event."""
        old, self._release = self._release, threading.Event()
        old.set()

    def set_fault(self, service: str, **spec: Any) -> None:
        """`service` is one of SERVICES or "*" (all). An empty spec clears that fault."""
        unknown = set(spec) - FAULT_FIELDS
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        if service != "*" and service not in SERVICES:
            raise ValueError(f"unknown service {service!r}")
        with self._lock:
            if spec:
                self.faults[service] = dict(spec)
            else:
                self.faults.pop(service, None)
        if not spec.get("hang"):
            self.release_hangs()

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()
        self.release_hangs()

    def set_function_status(self, slug: str, status: str) -> None:
        with self._lock:
            self.function_status[slug] = status

    def set_deploy_result(self, ready_state: str) -> None:
        with self._lock:
            self.deploy_result = ready_state

    # --- used by the handlers --------------------------------------------------------

    def take_fault(self, service: str, *, recipient: str | None = None) -> dict[str, Any]:
        """The fault for this request (service-specific wins over "*"), consuming `times`."""
        with self._lock:
            for key in (service, "*"):
                spec = self.faults.get(key)
                if not spec:
                    continue
                numbers = spec.get("numbers")
                if numbers and "*" not in numbers and recipient not in numbers:
                    continue
                if "times" in spec:
                    spec["times"] -= 1
                    if spec["times"] <= 0:
                        del self.faults[key]
                return dict(spec)
        return {}

    def wait_hang(self, seconds: float) -> None:
        self._release.wait(seconds)

    def next_id(self, prefix: str) -> str:
        with self._lock:
            self._next_id += 1
            return f"{prefix}{self._next_id:08d}"

    def next_uuid(self) -> str:
        """A UUID (as the Supabase API's key ids are), deterministic per simulator run."""
        with self._lock:
            self._next_id += 1
            return f"00000000-0000-4000-8000-{self._next_id:012d}"

    def contract_violation(self, text: str) -> None:
        with self._lock:
            self.contract_violations.append(text)

    def record_call(self, **call: Any) -> dict:
        call.setdefault("at", time.time())
        with self._lock:
            self.calls.append(call)
        return call

    def send_once(self, *, key: str, to: str, template: str) -> tuple[str, bool]:
        """(message_id, first_time). A repeated key returns the original id and sends nothing."""
        with self._lock:
            existing = self.sends.get(key)
            if existing:
                self.duplicates[key] = self.duplicates.get(key, 0) + 1
                return existing["message_id"], False
            self._next_id += 1
            message_id = f"wamid.SIM{self._next_id:010d}"
            self.sends[key] = {"message_id": message_id, "count": 1, "to": to}
            self.send_log.append(
                {
                    "at": time.time(),
                    "to": to,
                    "template": template,
                    "idempotency_key": key,
                    "message_id": message_id,
                }
            )
            return message_id, True

    # --- read helpers (tests) ----------------------------------------------------------

    def send_count(self, key: str) -> int:
        with self._lock:
            return self.sends.get(key, {}).get("count", 0)

    def sent_total(self) -> int:
        with self._lock:
            return len(self.sends)

    def calls_for(self, service: str | None = None, method: str | None = None) -> list[dict]:
        with self._lock:
            return [
                c
                for c in self.calls
                if (service is None or c["service"] == service)
                and (method is None or c["method"] == method)
            ]

    def snapshot(self, *, mask_headers: bool = True) -> dict[str, Any]:
        with self._lock:
            calls = [dict(c) for c in self.calls]
            if mask_headers:
                for c in calls:
                    c["headers"] = {
                        k: ("[set]" if k in SENSITIVE_HEADERS else v)
                        for k, v in c.get("headers", {}).items()
                    }
            return {
                "faults": {k: dict(v) for k, v in self.faults.items()},
                "sent": len(self.sends),
                "sends": {k: v["count"] for k, v in self.sends.items()},
                "duplicates": dict(self.duplicates),
                "send_log": list(self.send_log),
                "calls": calls,
                "function_status": dict(self.function_status),
                "secrets": sorted(self.secrets),
                "api_keys": [
                    {k: v for k, v in key.items() if k != "api_key"}
                    for key in self.api_keys.values()
                ],
                "legacy_keys_enabled": self.legacy_keys_enabled,
                "vercel_env": [
                    {k: v for k, v in e.items() if k != "value"} for e in self.vercel_env.values()
                ],
                "deployments": [
                    {k: v for k, v in d.items() if k != "polls"} for d in self.deployments.values()
                ],
                "vercel_production": {
                    name: project["production"] for name, project in self.vercel_projects.items()
                },
                "pagerduty_incidents": [dict(i) for i in self.pd_incidents.values()],
                "contract_violations": list(self.contract_violations),
            }
