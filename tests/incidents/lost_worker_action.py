"""A test-only action that acts, records it, then hangs: what a worker killed mid-run leaves.

Registered by the test that needs it (and by the worker subprocess it starts); removed again
after, so no other test sees it in the registry."""

import time

from incidents.engine.registry import _REGISTRY, ActionContext, register
from incidents.services import incident_note_add

KEY = "test_acts_then_hangs"
SIDE_EFFECT = "side effect of the lost run"


def _acts_then_hangs(ctx: ActionContext) -> dict:
    note = incident_note_add(incident=ctx.incident, text=SIDE_EFFECT, actor=ctx.actor)
    ctx.log(f"sub-call 1/2 done: note #{note.pk} added")
    ctx.log("sub-call 2/2: calling the slow service")
    time.sleep(300)  # the worker is killed here
    return {}


def lost_worker_action_register() -> None:
    if KEY not in _REGISTRY:
        register(KEY, "Acts, then hangs (tests)", tier="operational", timeout_seconds=1)(
            _acts_then_hangs
        )


def lost_worker_action_unregister() -> None:
    _REGISTRY.pop(KEY, None)
