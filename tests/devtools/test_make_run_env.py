"""`make run` hands every client the simulator's settings: exactly what `manage.py simulate`
prints (settings_for), plus moto for Secrets Manager. A variable the simulator names but the
Makefile forgets (SUPABASE_PROJECT_URL_TEMPLATE once) would send the demo to a real vendor."""

import shutil

import pytest

from devtools.simulator.server import settings_for
from tests.devtools.make_env import as_env, make_sim_env

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def test_make_run_passes_every_simulator_setting():
    env = make_sim_env()
    expected = {n: as_env(v) for n, v in settings_for("http://127.0.0.1:8787").items()}
    assert {name: env.get(name) for name in expected} == expected
    assert env["AWS_SECRETS_ENDPOINT_URL"] == "http://127.0.0.1:8788"
    assert env["SECRETS_MANAGER_ENABLED"] == "true"
    assert set(env) - set(expected) == {
        "AWS_SECRETS_ENDPOINT_URL",
        "SECRETS_MANAGER_ENABLED",
        "AWS_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    }


def test_the_simulator_addresses_follow_sim_and_sim_aws():
    env = make_sim_env(SIM="http://127.0.0.1:9001", SIM_AWS="http://127.0.0.1:9002")
    expected = {n: as_env(v) for n, v in settings_for("http://127.0.0.1:9001").items()}
    assert {name: env.get(name) for name in expected} == expected
    assert env["AWS_SECRETS_ENDPOINT_URL"] == "http://127.0.0.1:9002"
