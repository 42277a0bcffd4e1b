"""Building blocks of the five runbooks: the engine's step kinds, and the steps every runbook
shares."""

from incidents.engine.runbook import Phase, Runbook, Step, action, checklist, gate

__all__ = ["Phase", "Runbook", "Step", "action", "checklist", "close_page", "gate", "page_oncall"]


# Steps every runbook shares: page on-call when detected, close the page on resolution.
def page_oncall() -> Step:
    return action("pagerduty_trigger", "Page on-call in PagerDuty.", "pagerduty_trigger")


def close_page(text: str = "Close the incident in PagerDuty.") -> Step:
    return action("pagerduty_resolve", text, "pagerduty_resolve")
