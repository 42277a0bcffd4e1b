"""AWS Secrets Manager client against moto in server mode (real HTTP on loopback)."""

import pytest

from integrations.clients.secrets_manager import SecretsManagerClient
from integrations.errors import NotConfigured, Rejected, Unavailable

from .conftest import PROBE_SECRET


def test_get_current_and_previous_after_put(secrets_manager):
    client = SecretsManagerClient()
    assert client.get_current(PROBE_SECRET) == "first-value"
    client.put(PROBE_SECRET, "second-value")
    assert client.get_current(PROBE_SECRET) == "second-value"
    assert client.get_previous(PROBE_SECRET) == "first-value"


def test_missing_secret_is_rejected_with_aws_code(secrets_manager):
    with pytest.raises(Rejected) as exc:
        SecretsManagerClient().get_current("stg/easymo/supabase/missing")
    assert exc.value.code == "ResourceNotFoundException"
    assert "first-value" not in str(exc.value)


def test_switched_off_is_not_configured(settings):
    settings.SECRETS_MANAGER_ENABLED = False
    with pytest.raises(NotConfigured):
        SecretsManagerClient().get_current(PROBE_SECRET)


def test_unreachable_endpoint_is_unavailable(secrets_manager, settings):
    settings.AWS_SECRETS_ENDPOINT_URL = "http://127.0.0.1:9"
    with pytest.raises(Unavailable):
        SecretsManagerClient().get_current(PROBE_SECRET)
