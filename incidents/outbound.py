"""Outbound notifications used by actions and timers (Slack, PagerDuty, webhooks), mapped
to one error type so callers write one `except`."""


class OutboundError(Exception):
    pass


def slack_post(*, text: str, channel: str = "") -> dict:
    raise OutboundError("Slack client not available yet")
