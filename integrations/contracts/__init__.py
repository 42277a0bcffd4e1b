"""The vendors' API contracts we rely on, as JSON Schema, and the checks that use them.

See README.md in this folder for where each contract came from and how to refresh it.
"""

from integrations.contracts.validate import (
    NO_BODY,
    Violation,
    check_request,
    check_response,
    contract,
    request_violations,
    response_violations,
    vendors,
)

__all__ = [
    "NO_BODY",
    "Violation",
    "check_request",
    "check_response",
    "contract",
    "request_violations",
    "response_violations",
    "vendors",
]
