"""The audit log. `audit.record(...)` is the only way an entry is written."""


def record(**kwargs):
    """Write one audit entry; see `audit.services.audit_record` for the arguments."""
    from audit.services import audit_record

    return audit_record(**kwargs)
