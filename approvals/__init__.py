"""The two-person rule, in one place: what every approval in the portal obeys.

An approval is a row (an incident's risky step: `incidents.models.Approval`; an account's
admin role: `staff.models.RoleRequest`) with the fields of `approvals.fields`. The rules
are `approvals.rules`: never the requester, bound to the exact change it was asked for
(a hash), expiring, and re-checked when the approved change is used. This package is at
the bottom of the layers: it imports no app of ours, so every app may use it.
"""
