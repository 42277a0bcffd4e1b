"""How each vendor answers a request that breaks its contract (for a strict simulator).

Every contract file has a "refusal" (an endpoint may have its own): the status and the
body the vendor documents for an invalid request, with "<what is wrong>" where the
vendor puts its explanation. `refusal_for` fills that in from the violations found.
Missing or wrong credentials are not covered: the vendors answer those with their own
401/403 bodies, which the simulator already models.
"""

from typing import Any

from integrations.contracts.validate import Violation, contract

PLACEHOLDER = "<what is wrong>"


def _fill(template: Any, problems: list[str]) -> Any:
    if isinstance(template, dict):
        return {key: _fill(value, problems) for key, value in template.items()}
    if isinstance(template, list):
        if template == [PLACEHOLDER]:
            return list(problems)
        return [_fill(item, problems) for item in template]
    if isinstance(template, str) and PLACEHOLDER in template:
        return template.replace(PLACEHOLDER, "; ".join(problems))
    return template


def refusal_for(
    vendor: str, method: str, path: str, violations: list[Violation]
) -> tuple[int, Any]:
    """(status, JSON body) the vendor documents for this invalid request."""
    doc = contract(vendor).doc
    endpoint, _, _ = contract(vendor).find(method.upper(), path)
    spec = doc["refusal"]
    if endpoint is not None:
        spec = doc["endpoints"][endpoint.name].get("refusal", spec)
    problems = [f"{v.where}: {v.message}" for v in violations] or ["invalid request"]
    return spec["status"], _fill(spec["body"], problems)
