"""The README's rotation recipe on a fresh `make run` stack, in the browser.

The stack is started as `make run` starts it: `migrate` and `demo` on a new SQLite file, then
`serve_all` (runserver, a real django-q2 worker on the ORM broker, the simulator and moto)
with the Makefile's own simulator variables (read from the Makefile, on free ports).
`manage.py demo --leak` plants the leak as a person would in a second terminal; then the
three clicks: request as ops, approve as admin, watch the saga. At the end all nine saga
steps are done, and the simulator refuses the leaked key and accepts the new one.
"""

import os
import re
import socket
import subprocess
import sys
import time

import boto3
import httpx
import pytest

from tests.devtools.make_env import make_sim_env
from tests.e2e.conftest import ROOT, _Process

DEMO_PASSWORD = "opsportal-demo"  # what `manage.py demo` gives its people
SAGA_TIMEOUT = 180_000  # ms: worker pick-up on SQLite, nine steps, two deployment polls


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def make_run(tmp_path_factory):
    """A fresh `make run` stack; yields its addresses and the environment of a second
    terminal (DEBUG=true, the same SQLite file, no simulator variables)."""
    folder = tmp_path_factory.mktemp("make-run")
    web, sim, aws = _free_port(), _free_port(), _free_port()
    # A fresh terminal's environment: none of the test run's settings (pyproject's pytest env).
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "USER", "TMPDIR")}
    terminal = {
        **base,
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        # The only departure from `make run`: anchors in this run's folder, not the checkout.
        "AUDIT_ANCHOR_URL": f"file://{folder / 'anchors'}",
        "PYTHONUNBUFFERED": "1",
    }
    manage = [sys.executable, "manage.py"]
    for step in (["migrate", "--no-input"], ["demo"]):
        subprocess.run([*manage, *step], cwd=ROOT, env=terminal, check=True, capture_output=True)
    sim_env = make_sim_env(SIM=f"http://127.0.0.1:{sim}", SIM_AWS=f"http://127.0.0.1:{aws}")
    stack = _Process(
        "make-run",
        [
            *manage,
            "serve_all",
            "--addr",
            f"127.0.0.1:{web}",
            "--simulator-port",
            str(sim),
            "--aws-port",
            str(aws),
        ],
        {**terminal, **sim_env},
    )
    try:
        stack.wait_for_line(r"Secrets Manager \(moto\) on", timeout=120)
        stack.wait_for_line(r"Q Cluster .* running", timeout=120)
        for _ in range(200):
            try:
                if httpx.get(f"http://127.0.0.1:{web}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        yield {
            "portal": f"http://127.0.0.1:{web}",
            "sim": f"http://127.0.0.1:{sim}",
            "aws": f"http://127.0.0.1:{aws}",
            "terminal": terminal,
        }
    finally:
        stack.stop()


def _login(browser, portal: str, username: str):
    page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{portal}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("#login-form [type=submit]")
    page.wait_for_url(f"{portal}/admin/")
    return page


def _accepted(sim: str, key: str) -> bool:
    answer = httpx.get(f"{sim}/auth/v1/admin/users", headers={"apikey": key}, timeout=5)
    return answer.status_code == 200


def test_the_readme_recipe_rotates_a_key_on_a_fresh_make_run(make_run, browser, shot):
    leak = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "demo",
            "--leak",
            "--simulator",
            make_run["sim"],
            "--portal",
            make_run["portal"],
        ],
        cwd=ROOT,
        env=make_run["terminal"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    leaked = re.search(r"leaked key \(simulator-only\): (\S+)", leak).group(1)
    leaked_id = re.search(r"leaked key id: +(\S+)", leak).group(1)
    work = re.search(r"is open: (\S+/work/)", leak).group(1)
    project = re.search(r"project (.+?), paste the leaked key", leak).group(1)
    assert work.startswith(make_run["portal"])
    assert _accepted(make_run["sim"], leaked)

    # 1. As ops: prepare the rotation with the leaked key and request approval.
    ops = _login(browser, make_run["portal"], "ops")
    ops.goto(work)
    ops.click("#step-update_envs a:has-text('Prepare the key rotation')")
    ops.select_option("select[name=project]", label=project)
    ops.fill("input[name=leaked_key]", leaked)
    ops.fill("input[name=leaked_key_id]", leaked_id)
    ops.click("button:has-text('Prepare and request approval')")
    ops.wait_for_url("**/admin/rotation/rotationrun/*/change/")
    rotation_page = ops.url
    assert leaked not in ops.content()
    ops.goto(work)
    assert "pending" in ops.locator("#step-update_envs .approval-pointer").inner_text()

    # 2. As admin: approve.
    admin = _login(browser, make_run["portal"], "admin")
    admin.goto(work)
    admin.locator(".approval-panel button[value=approve]").click()
    admin.wait_for_load_state()

    # 3. Watch the saga: the page updates in place; step 7 signs everyone out.
    admin.locator("#step-update_envs .st-done, #login-form").first.wait_for(timeout=SAGA_TIMEOUT)
    if admin.locator("#login-form").count():
        admin = _login(browser, make_run["portal"], "admin")
        admin.goto(work)
        admin.locator("#step-update_envs .st-done").first.wait_for(timeout=SAGA_TIMEOUT)
    admin.goto(rotation_page)
    statuses = admin.locator("td.field-status").all_inner_texts()
    assert [s.strip().lower() for s in statuses] == ["done"] * 9, statuses
    assert "redeploy of dpl_" in admin.locator("td.field-detail").nth(2).inner_text()
    shot(admin, "make-run-rotation-done")

    # At the simulator: the leaked key is refused, the new one (AWSCURRENT) accepted.
    secrets = boto3.client(
        "secretsmanager",
        endpoint_url=make_run["aws"],
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    new = secrets.get_secret_value(SecretId="prod/easymo/supabase/service-role")["SecretString"]
    assert new != leaked
    assert not _accepted(make_run["sim"], leaked)
    assert _accepted(make_run["sim"], new)
