"""Importing this package registers every action (one module per owning app)."""

from incidents.actions import incident, vouchers  # noqa: F401
