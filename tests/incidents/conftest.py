import pytest


@pytest.fixture
def sync_tasks(monkeypatch, django_capture_on_commit_callbacks):
    """django-q2 in sync mode: a task enqueued on commit runs at once, in this process.

    Use as `with sync_tasks(): ...` around the call that enqueues."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)

    def _ctx():
        return django_capture_on_commit_callbacks(execute=True)

    return _ctx


@pytest.fixture
def open_incident(db):
    from incidents.services import Impacted, incident_open

    def _open(runbook_key="station_redeem", actor=None, impacted=(), dedup_key="", **kw):
        incident, _ = incident_open(
            runbook_key=runbook_key,
            actor=actor,
            impacted=[Impacted(*i) if isinstance(i, tuple) else i for i in impacted],
            dedup_key=dedup_key,
            **kw,
        )
        return incident

    return _open


@pytest.fixture
def step_of():
    def _step(incident, key):
        return incident.steps.get(key=key)

    return _step
