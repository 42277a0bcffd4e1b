"""The action catalogue: one module per owning app, each registering its actions with the
engine (incidents.engine.registry) as it is imported. IncidentsConfig.ready() imports this
package; rotation registers its own actions from RotationConfig.ready()."""

from incidents.actions import campaigns, incident, notify, vouchers

__all__ = ["campaigns", "incident", "notify", "vouchers"]
