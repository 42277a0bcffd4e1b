"""Importing this package registers every action (one module per owning app)."""

from incidents.actions import campaigns, incident, notify, vouchers  # noqa: F401
from incidents.rotation import actions as _rotation  # noqa: F401,E402  (credential leak)
