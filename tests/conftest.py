"""Shared fixtures: personas per role, a station, vouchers, and a network guard.

Tests never reach the outside world: any outgoing connection to a non-loopback
address fails (the project's own simulator and moto run on 127.0.0.1).
"""

import ipaddress
import socket
from decimal import Decimal

import pytest

# Every outbound request is checked against the vendors' API contracts (integrations/contracts).
pytest_plugins = ["tests.vendor_contracts"]

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_loopback(address) -> bool:
    if not isinstance(address, tuple):
        return True  # unix sockets
    host = address[0]
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self, address):
    if not _is_loopback(address):
        raise ConnectionRefusedError(f"tests may not reach {address!r}: only loopback is allowed")
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    if not _is_loopback(address):
        raise ConnectionRefusedError(f"tests may not reach {address!r}: only loopback is allowed")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def _block_network():
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex
    yield
    socket.socket.connect = _real_connect
    socket.socket.connect_ex = _real_connect_ex


PASSWORD = "a-long-test-password-1"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness buys nothing in tests and costs seconds per persona.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_staff(db):
    from staff.services import staff_create

    def _make(role: str, username: str | None = None):
        return staff_create(username=username or f"{role}-user", role=role, password=PASSWORD)

    return _make


@pytest.fixture
def support_user(make_staff):
    return make_staff("support", "sam-support")


@pytest.fixture
def ops_user(make_staff):
    return make_staff("ops", "olga-ops")


@pytest.fixture
def admin_user(make_staff):
    return make_staff("admin", "ada-admin")


@pytest.fixture
def second_admin(make_staff):
    return make_staff("admin", "ben-admin")


@pytest.fixture
def auditor_user(make_staff):
    return make_staff("auditor", "aud-auditor")


@pytest.fixture
def client_for(client):
    """`client_for(user)` → the test client logged in as that user."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def station_with_token(db):
    from vouchers.services import station_create

    issued = station_create(code="KGL-001", name="Kigali Remera")
    return issued.station, issued.token


@pytest.fixture
def voucher_factory(db):
    from vouchers.services import vouchers_issue

    def _make(count: int = 1, amount: str = "5000", currency: str = "RWF", stations=(), **kw):
        vouchers = vouchers_issue(
            count=count, amount=Decimal(amount), currency=currency, stations=stations, **kw
        )
        return vouchers[0] if count == 1 else vouchers

    return _make


# The audit tables refuse TRUNCATE (audit/migrations/0007_no_maintenance_switch.py); the flush
# that empties the test database after each `transaction=True` test may pass (tests/audit_flush.py).
from tests.audit_flush import allow_test_flush  # noqa: E402

allow_test_flush()


@pytest.fixture
def simulator(settings):
    """The devtools simulator on an ephemeral loopback port, with every client pointed at it."""
    from devtools.simulator.server import start_simulator

    sim = start_simulator(port=0)
    for name, value in sim.settings().items():
        setattr(settings, name, value)
    yield sim
    sim.stop()
    # The strict simulator only answers as the vendors document (devtools.simulator.server).
    assert sim.contract_violations() == [], "the simulator answered what no vendor would"
