"""An open Voucher Preview incident keeps previews in code-view mode until it is resolved,
even if the probe turns green in between (runbooks.md: "fallback to code view").

IncidentsConfig.ready() registers this with integrations' degraded-mode hook; integrations
then shows its own runbook copy for the integration (the banner) and the preview falls
back to the code view. The copy is integrations'; this module only says *why*.
"""

from incidents.selectors import incident_open_for_runbook, page_failing

RUNBOOK_KEY = "voucher_preview"


def open_voucher_preview_incident() -> str:
    pk = incident_open_for_runbook(runbook_key=RUNBOOK_KEY)
    return f"incident #{pk} is open" if pk else ""


def paging_failing(provider: str):
    """The degraded-mode check for PagerDuty or Slack: a page that keeps failing shows as that
    integration's banner on every page (front page and status page included), whatever its
    probe says."""

    def check() -> str:
        return page_failing(provider=provider)

    return check
