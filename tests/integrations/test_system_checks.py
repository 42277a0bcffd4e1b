from django.core.checks import run_checks


def _ids():
    return {e.id for e in run_checks() if e.id.startswith("integrations.")}


def test_defaults_pass(settings):
    assert _ids() == set()


def test_probe_timeout_must_be_positive_and_below_the_task_timeout(settings):
    settings.INTEGRATIONS_PROBE_TIMEOUT = 0
    assert "integrations.E001" in _ids()
    settings.INTEGRATIONS_PROBE_TIMEOUT = 500
    assert "integrations.E002" in _ids()


def test_slow_mark_must_be_below_the_timeout(settings):
    settings.INTEGRATIONS_PROBE_TIMEOUT = 1.0
    settings.INTEGRATIONS_PROBE_SLOW_MS = 1500
    assert "integrations.E003" in _ids()
