"""Which campaign controls apply, in which state, for whom: the one rule the campaign page's
buttons, the admin's control view and the services' refusals all read.

A button is shown only where pressing it does something: Start from draft or paused, Stop
while running, Replay while running or paused (a stalled campaign is often left paused),
Upload and Send test until the campaign is completed, Export always (a completed campaign
offers nothing else). The services refuse what does not apply (a completed campaign cannot
be started); the API keeps its contract: a start of a running campaign or a stop of a
stopped one is a harmless no-op 200 (docs/contracts.md).
"""

from dataclasses import dataclass

from campaigns.models import Campaign

State = Campaign.State
CONTROL_PERMISSION = "campaigns.control_campaign"


@dataclass(frozen=True)
class Control:
    key: str
    label: str
    states: frozenset[str]
    permission: str
    # Said next to the button: what pressing it does.
    hint: str = ""


CONTROLS: dict[str, Control] = {
    c.key: c
    for c in (
        Control(
            "start",
            "Start",
            frozenset({State.DRAFT, State.PAUSED}),
            CONTROL_PERMISSION,
            "starts sending (after quiet hours, at the throttle)",
        ),
        Control(
            "stop",
            "Stop",
            frozenset({State.RUNNING}),
            CONTROL_PERMISSION,
            "pauses after the sends in flight; Start resumes",
        ),
        Control(
            "replay",
            "Replay dispatcher",
            frozenset({State.RUNNING, State.PAUSED}),
            CONTROL_PERMISSION,
            "stop, then start: a fresh worker takes over a stuck one",
        ),
        Control(
            "upload",
            "Upload targets",
            frozenset({State.DRAFT, State.PAUSED, State.RUNNING}),
            "campaigns.add_target",
        ),
        Control(
            "send_test",
            "Send test",
            frozenset({State.DRAFT, State.PAUSED, State.RUNNING}),
            "campaigns.send_test_message",
        ),
        Control(
            "export",
            "Export failed/invalid",
            frozenset(State.values),
            "campaigns.export_targets",
        ),
    )
}
BUTTONS = ("start", "stop", "replay")  # the state-changing controls (POST forms)


def control_applies(*, key: str, state: str) -> bool:
    """Whether `key` does something to a campaign in `state` (whoever asks)."""
    control = CONTROLS.get(key)
    return control is not None and state in control.states


def campaign_controls(*, state: str, actor) -> dict[str, Control]:
    """The controls `actor` may use on a campaign in `state`, by key, in display order."""
    return {
        key: c
        for key, c in CONTROLS.items()
        if state in c.states and (actor is None or actor.has_perm(c.permission))
    }
