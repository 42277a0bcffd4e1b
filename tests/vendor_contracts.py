"""Every outbound request in the test suite is checked against the vendors' contracts.

Registered from tests/conftest.py. The check sits on the pooled httpx client that all our
clients share (`integrations.clients.base.shared_http_client`), as httpx event hooks, so it
sees the requests that respx mocks answer and those the simulator answers alike; the
campaign dispatcher's keep-alive sender (http.client) is wrapped the same way.

- A request the vendor would refuse raises `VendorContractViolation` where it was made and
  fails the test that made it, even when the code under test swallowed the exception
  (probes turn every exception into a red tile). A response that is not one the vendor
  documents fails the test too. Setup and teardown are checked the same way.
- `vendor_contracts.expect()` (fixture) is for a test that sends a bad request on purpose.
- Simulator (loopback) traffic gets no allowance: the strict simulator answers as the
  vendors do, and a request it would refuse fails here before it is sent.
"""

import json
import threading
from contextlib import contextmanager

import httpx
import pytest

from integrations.contracts import Violation, request_violations, response_violations


class VendorContractViolation(AssertionError):
    """The request (or the answer) breaks the vendor's documented contract."""


class _Recorder:
    def __init__(self):
        self._lock = threading.Lock()
        self._found: list[Violation] = []
        self._expected: list[list[Violation]] = []

    def add(self, violations: list[Violation]) -> None:
        with self._lock:
            if self._expected:
                self._expected[-1].extend(violations)
            else:
                self._found.extend(violations)

    def take(self) -> list[Violation]:
        with self._lock:
            found, self._found = self._found, []
            return found

    @contextmanager
    def expect(self):
        caught: list[Violation] = []
        with self._lock:
            self._expected.append(caught)
        try:
            yield caught
        finally:
            with self._lock:
                self._expected.remove(caught)


recorder = _Recorder()


def _vendor_bases() -> list[tuple[str, str]]:
    from django.conf import settings

    return [
        (vendor, base.rstrip("/"))
        for vendor, base in (
            ("supabase_management", settings.SUPABASE_MANAGEMENT_URL),
            ("vercel", settings.VERCEL_API_URL),
            ("pagerduty_rest", settings.PAGERDUTY_API_URL),
            ("pagerduty_events", settings.PAGERDUTY_EVENTS_URL),
            ("slack", settings.SLACK_API_URL),
            ("supabase_project", settings.SUPABASE_URL),
            ("supabase_project", getattr(settings, "SUPABASE_PROJECT_URL_TEMPLATE", "")),
        )
        if base
    ]


def vendor_for(url: httpx.URL) -> tuple[str, str] | None:
    """(vendor, base URL) of the most specific configured base that `url` is under."""
    from integrations.contracts.validate import vendor_path

    best, best_rest = None, None
    for vendor, base in _vendor_bases():
        rest = vendor_path(vendor, url, base)
        if rest is not None and (best_rest is None or len(rest) < len(best_rest)):
            best, best_rest = (vendor, base), rest
    return best


def _report(violations: list[Violation], url: httpx.URL, *, raise_now: bool) -> None:
    if not violations:
        return
    recorder.add(violations)
    if raise_now:
        raise VendorContractViolation("\n".join(map(str, violations)))


def _check_request(request: httpx.Request) -> None:
    found = vendor_for(request.url)
    if found is None:
        violation = Violation("?", "", "url", "no vendor contract covers this address")
        _report([violation], request.url, raise_now=True)
        return
    vendor, base = found
    _report(request_violations(vendor, request, base_url=base), request.url, raise_now=True)


def _check_response(response: httpx.Response) -> None:
    found = vendor_for(response.request.url)
    if found is None:
        return  # already reported for the request
    response.read()
    vendor, base = found
    violations = response_violations(vendor, response, base_url=base)
    _report(violations, response.request.url, raise_now=False)


def install(client: httpx.Client) -> None:
    """Idempotent: add the checks to this client's event hooks."""
    hooks = client.event_hooks
    if _check_request not in hooks["request"]:
        client.event_hooks = {
            "request": [*hooks["request"], _check_request],
            "response": [*hooks["response"], _check_response],
        }


def _checked_post(original):
    def post(self, payload: dict):
        url = httpx.URL(self.client.base_url)
        request = httpx.Request(
            "POST", url, headers=self.headers, content=json.dumps(payload).encode()
        )
        _check_request(request)
        status, body = original(self, payload)
        found = vendor_for(url)
        if found:
            answer = httpx.Response(status, json=body, request=request)
            _report(response_violations(found[0], answer, base_url=found[1]), url, raise_now=False)
        return status, body

    return post


@pytest.fixture(autouse=True, scope="session")
def _vendor_contract_checks():
    from integrations.clients import keepalive
    from integrations.clients.base import shared_http_client

    install(shared_http_client())
    original = keepalive.KeepAliveJsonPoster.post
    keepalive.KeepAliveJsonPoster.post = _checked_post(original)
    yield
    keepalive.KeepAliveJsonPoster.post = original


@pytest.fixture(autouse=True)
def _vendor_contract_checks_on_this_process_pool():
    """A forked worker builds its own pool: make sure that one is checked too."""
    from integrations.clients.base import shared_http_client

    install(shared_http_client())


class VendorContracts:
    """The `vendor_contracts` fixture: `with vendor_contracts.expect() as caught:` lets a
    test send a request the vendor would refuse and assert on what was caught."""

    expect = staticmethod(recorder.expect)


@pytest.fixture
def vendor_contracts() -> VendorContracts:
    return VendorContracts()


def _phase(name: str):
    recorder.take()
    try:
        result = yield
    except BaseException as exc:
        violations = recorder.take()
        if violations:  # the phase failed anyway; say what else was wrong
            exc.add_note("vendor contract also broken:\n  " + "\n  ".join(map(str, violations)))
        raise
    violations = recorder.take()
    if violations:
        lines = "\n  ".join(map(str, violations))
        raise VendorContractViolation(f"vendor contract broken during {name}:\n  {lines}")
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    return (yield from _phase("setup"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    return (yield from _phase("the test"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    return (yield from _phase("teardown"))
