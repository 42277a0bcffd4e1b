"""Django's debug error page (and the error e-mails built the same way) shows no secret:
not SUPABASE_FUNCTIONS_JWT nor any other secret setting, not the Authorization header,
not a posted key, not a local variable holding one, not a password inside a URL."""

import sys

import pytest
from django.conf import settings as django_settings
from django.test import RequestFactory
from django.views.debug import technical_500_response

from audit.redaction import SECRET_KEY_NAMES
from opsportal.debug import SecretsExceptionReporterFilter

SECRETS = {
    "SECRET_KEY": "django-secret-value-0001",
    "SUPABASE_FUNCTIONS_JWT": "functions-jwt-value-0002",
    "SUPABASE_FUNCTIONS_APIKEY": "functions-apikey-value-0003",
    "SUPABASE_ACCESS_TOKEN": "access-token-value-0004",
    "VERCEL_TOKEN": "vercel-token-value-0005",
    "PAGERDUTY_API_KEY": "pagerduty-key-value-0006",
    "PAGERDUTY_ROUTING_KEY": "routing-key-value-0007",
    "SLACK_BOT_TOKEN": "slack-token-value-0008",
    "AUDIT_SIGNING_KEY": "signing-key-value-0009",
    "AUDIT_CHECKPOINT_KEY": "checkpoint-key-value-0010",
    "EMAIL_HOST_PASSWORD": "email-password-value-0011",
    "Q_BROKER_URL": "redis://:broker-password-0012@redis.internal:6379/0",
}


def _debug_page(settings, request) -> str:
    for name, value in SECRETS.items():
        setattr(settings, name, value)
    settings.DEBUG = True
    # A frame variable (built at run time: the page also shows these source lines).
    service_role = "sb_secret_" + "".join(reversed("fedcba3100elbairavlacol"))  # noqa: F841
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        return technical_500_response(request, *sys.exc_info()).content.decode()


def test_no_secret_setting_header_parameter_or_variable_is_on_the_page(settings):
    request = RequestFactory().post(
        "/admin/rotation/rotationrun/start/1/",
        {"leaked_key": "sb_secret_posted0014abcdefgh", "note": "fine"},
        HTTP_AUTHORIZATION="Bearer opsp_header0015abcdefghijkl",
    )
    page = _debug_page(settings, request)
    assert "boom" in page and "fine" in page  # the page is there, with what is harmless
    values = [*SECRETS.values(), "broker-password-0012", "localvariable0013", "posted0014"]
    leaked = [v for v in [*values, "header0015"] if v in page]
    assert not leaked, leaked


@pytest.mark.parametrize(
    "name", sorted(n for n in dir(django_settings) if n.isupper() and SECRET_KEY_NAMES.search(n))
)
def test_every_setting_the_audit_log_calls_secret_is_hidden(name):
    """One list of secret names: whatever audit.redaction treats as secret, the page hides."""
    reporter = SecretsExceptionReporterFilter()
    assert reporter.cleanse_setting(name, "value") == reporter.cleansed_substitute
