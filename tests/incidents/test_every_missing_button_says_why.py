"""Every button a person does not get on a step says why and what to do instead (one rule:
incidents.services.step_actions), on the incident page as each role; the front page's next
step is one its reader can do."""

import html
import re

import pytest
from django.urls import reverse

from incidents.services import incident_status_set, step_run_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def leak(open_incident, admin_user):
    # Opened by a detector's finding: step 1.1 (detected) is done by detecting.
    return open_incident(
        "credential_leak", actor=admin_user, dedup_key="why", detail="key seen in a public repo"
    )


def _page(client_for, user, incident) -> str:
    url = reverse("admin:incidents_incident_work", args=[incident.pk])
    response = client_for(user).get(url)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def _why(page: str, number: str) -> list[str]:
    """The why-notes of step `number`, by their aria-labels."""
    return re.findall(rf'aria-label="(Step {re.escape(number)} [^"]*: no [^"]*)"', page)


def test_support_is_told_who_may_run_or_skip_and_gets_a_link_to_ask_with(
    client_for, support_user, leak
):
    page = _page(client_for, support_user, leak)
    link = f"http://testserver{reverse('admin:incidents_incident_work', args=[leak.pk])}"
    [rotate] = _why(page, "3.1")
    assert "Update Vercel" in rotate and "no Request approval/Skip" in rotate
    assert "needs ops or admin" in rotate
    [page_oncall] = _why(page, "1.2")
    assert "no Run/Skip" in page_oncall and "needs ops or admin" in page_oncall
    assert "ask in #ops for someone with the ops role to do step 3.1" in page
    assert f'value="{link}"' in page
    assert f'aria-label="Link to incident #{leak.pk} for step 3.1 Update Vercel' in page
    assert _why(page, "3.2") == []  # a checklist item support may tick: no excuse needed


def test_the_auditor_reads_why_it_may_not_tick_a_checklist_item(client_for, auditor_user, leak):
    page = _page(client_for, auditor_user, leak)
    [revoke] = _why(page, "3.2")
    assert "no Done/Skip" in revoke and "needs support or ops or admin" in revoke


def test_ops_and_admins_are_told_who_must_approve_a_pending_request(
    client_for, ops_user, admin_user, second_admin, leak
):
    step = leak.steps.get(key="invalidate_sessions")
    approval = step_run_request(step=step, actor=admin_user, params={})
    waiting = f"waiting for approval #{approval.pk} requested by {admin_user.username}"

    as_ops = _page(client_for, ops_user, leak)
    [why] = _why(as_ops, step.number)
    assert "no Approve" in why and waiting in why
    assert f"an admin other than {admin_user.username} approves it on this page" in as_ops

    as_requester = _page(client_for, admin_user, leak)
    assert waiting in " ".join(_why(as_requester, step.number))
    assert "the requester never approves their own request" in as_requester

    as_second = _page(client_for, second_admin, leak)
    assert _why(as_second, step.number) == []  # gets Approve / Deny
    assert 'value="approve"' in as_second


def test_a_resolved_incident_says_why_nothing_runs(client_for, ops_user, leak):
    incident_status_set(incident=leak, status="resolved", actor=ops_user, note="drill")
    page = _page(client_for, ops_user, leak)
    assert "the incident is resolved" in " ".join(_why(page, "3.1"))


def test_the_front_page_next_step_is_one_its_reader_can_do(
    client_for, support_user, ops_user, leak
):
    def next_step(user) -> str:
        body = client_for(user).get(reverse("admin:index")).content.decode()
        row = re.search(rf'data-incident="{leak.pk}".*?class="fp-next-step">([^<]*)', body, re.S)
        return row.group(1).strip()

    assert next_step(ops_user).startswith("1.2 ")  # page on-call: operational
    assert next_step(support_user).startswith("3.2 ")  # the first one support may do
