"""Compatibility shim: `ApiToken` lives in `staff.models` now (issue #18).

`incidents/actions/incident.py` still imports it from here until it calls
`staff.services.staff_sessions_invalidate` instead; delete this module then.
No model is defined here, so `opsportal` owns no table.
"""

from staff.models import ApiToken  # noqa: F401
