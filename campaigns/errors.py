"""Typed refusals of the campaign services; `code` is the JSON error code of contracts.md."""


class CampaignError(Exception):
    code = "invalid_request"
    status = 400

    def __init__(self, detail: str = ""):
        self.detail = detail
        super().__init__(detail or self.code)


class CampaignNotFound(CampaignError):
    code = "not_found"
    status = 404


class InvalidState(CampaignError):
    code = "invalid_state"
    status = 409


class IntegrationUnhealthy(CampaignError):
    code = "integration_unhealthy"
    status = 409


class SendFailed(CampaignError):
    """A test message was refused; `detail` is the provider's error code."""

    code = "send_failed"
    status = 502
