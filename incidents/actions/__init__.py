"""Importing this package registers every action (one module per owning app)."""

from incidents.actions import campaigns, incident, notify, vouchers  # noqa: F401
