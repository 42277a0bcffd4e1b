"""The whole path through a real django-q2 cluster: request → commit → ORM broker → qcluster
process → our task → run row, step, timeline and audit."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from audit.models import AuditEntry
from incidents.services import step_run_request

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_step_run_is_executed_by_a_real_qcluster(
    open_incident, step_of, support_user, voucher_factory
):
    voucher = voucher_factory()
    incident = open_incident(impacted=[("vouchers.voucher", voucher.pk, voucher.code)])
    run = step_run_request(step=step_of(incident, "voucher_review"), actor=support_user)
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "Q_WORKERS": "1",
        "Q_POLL": "0.1",
    }
    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.status in ("succeeded", "failed", "cancelled"):
                break
            time.sleep(0.2)
    finally:
        cluster.terminate()
        cluster.wait(timeout=30)
    assert run.status == "succeeded", run.log
    assert voucher.code in run.log
    assert AuditEntry.objects.filter(action="incident.step_run", incident_id=incident.pk).exists()
    assert step_of(incident, "voucher_review").status == "done"
