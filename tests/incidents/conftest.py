import pytest

# The shared incident fixtures (signed PagerDuty webhooks, a real qcluster): both halves of #17.
from tests.incidents.e2e_support import qcluster, qcluster_env, webhook_secret  # noqa: F401


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


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def run_step(step_of):
    """Request a step run as `user` and execute it here, as the worker would (on_commit hooks
    of other apps' services are not run: the test transaction never commits)."""
    from incidents.models import StepRun
    from incidents.services import step_run_request
    from incidents.tasks import step_run_execute

    def _run(incident, key, user, **params):
        result = step_run_request(step=step_of(incident, key), actor=user, params=params)
        assert isinstance(result, StepRun), result
        step_run_execute(result.pk)
        result.refresh_from_db()
        return result

    return _run
