"""The only exceptions our callers see from an integration (ARCHITECTURE.md, "Integrations").

Callers branch on the class (retry later? give up? show "not configured"?) and
on `code` (the provider's own code when it sent one). Messages are built by the
clients from status codes and provider codes only, never from request headers
or bodies, so they can be logged and stored without leaking a credential.
"""


class IntegrationError(Exception):
    """Base: `service` failed; `permanent` says whether retrying the same call can help."""

    default_permanent = False

    def __init__(
        self,
        message: str = "",
        *,
        service: str,
        code: str = "",
        status: int | None = None,
        permanent: bool | None = None,
    ):
        self.service = service
        self.code = code
        self.status = status
        self.permanent = self.default_permanent if permanent is None else permanent
        super().__init__(message or self._default_message())

    def _default_message(self) -> str:
        parts = [f"{self.service}: {type(self).__name__}"]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.code:
            parts.append(f"code {self.code}")
        return " ".join(parts)


class NotConfigured(IntegrationError):
    """The integration is switched off or a required setting is missing."""

    default_permanent = True


class Timeout(IntegrationError):
    """No answer within the connect/read timeout (the call may or may not have happened)."""


class Unavailable(IntegrationError):
    """5xx from the service or its platform, or no connection at all."""


class RateLimited(IntegrationError):
    """Throttled. `retry_after` is seconds to wait when the service said so, else None."""

    def __init__(self, message: str = "", *, retry_after: float | None = None, **kwargs):
        self.retry_after = retry_after
        kwargs.setdefault("code", "429")
        super().__init__(message, **kwargs)


class Rejected(IntegrationError):
    """4xx: the service refused this request; `code` is the provider's code (or the status)."""

    default_permanent = True


class DeploymentFailed(IntegrationError):
    """A deployment the service accepted ended without going live (Vercel ERROR, CANCELED,
    BLOCKED); `state` is the final state. Retrying the same build cannot help."""

    default_permanent = True

    def __init__(self, message: str = "", *, state: str = "", **kwargs):
        self.state = state
        super().__init__(message, **kwargs)
