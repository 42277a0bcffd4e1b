import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from incidents.models import Incident, IncidentNote, TimelineEntry

pytestmark = pytest.mark.django_db


def test_the_page_shows_the_checklist_by_phase_timeline_and_notes_box(
    client_for, support_user, open_incident
):
    incident = open_incident("whatsapp_send")
    body = (
        client_for(support_user)
        .get(reverse("admin:incidents_incident_work", args=[incident.pk]))
        .content.decode()
    )
    for text in (
        "Immediate actions",
        "Escalation",
        "Notify WABA provider",
        "due ",
        "Add note",
        "Timeline",
        "csrfmiddlewaretoken",
    ):
        assert text in body


def test_support_adds_a_note_that_lands_in_the_timeline(client_for, support_user, open_incident):
    incident = open_incident()
    url = reverse("admin:incidents_incident_act", args=[incident.pk])
    response = client_for(support_user).post(url, {"op": "note", "text": "Station says scanner ok"})
    assert response.status_code == 302
    assert IncidentNote.objects.get().author == support_user
    assert incident.timeline.filter(kind="note", actor=support_user).exists()


def test_the_auditor_reads_but_cannot_add_notes_or_change_state(
    client_for, auditor_user, open_incident
):
    incident = open_incident()
    client = client_for(auditor_user)
    assert (
        client.get(reverse("admin:incidents_incident_work", args=[incident.pk])).status_code == 200
    )
    url = reverse("admin:incidents_incident_act", args=[incident.pk])
    assert client.post(url, {"op": "note", "text": "x"}).status_code == 403
    assert client.post(url, {"op": "status", "status": "resolved"}).status_code == 403
    assert not IncidentNote.objects.exists()


def test_a_secret_pasted_into_a_note_is_masked_and_opens_a_credential_leak_incident(
    client_for, support_user, open_incident, django_capture_on_commit_callbacks
):
    incident = open_incident()
    key = "sb_secret_" + "A1b2C3d4E5f6G7h8"
    url = reverse("admin:incidents_incident_act", args=[incident.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client_for(support_user).post(url, {"op": "note", "text": f"found {key} in a log"})
    assert key not in IncidentNote.objects.get().text
    assert not TimelineEntry.objects.filter(message__contains=key).exists()
    leak = Incident.objects.get(runbook_key="credential_leak")
    assert leak.dedup_key == "secret_in_note"


def test_the_timeline_cannot_be_edited_or_deleted_in_the_admin(
    client_for, admin_user, open_incident
):
    incident = open_incident()
    entry = incident.timeline.first()
    client = client_for(admin_user)
    change = reverse("admin:incidents_timelineentry_change", args=[entry.pk])
    delete = reverse("admin:incidents_timelineentry_delete", args=[entry.pk])
    client.post(change, {"message": "rewritten"})
    client.post(delete, {"post": "yes"})
    entry.refresh_from_db()
    assert entry.message.startswith("Opened")


def test_ops_opens_an_incident_from_the_admin_with_impacted_vouchers(
    client_for, ops_user, voucher_factory
):
    voucher = voucher_factory()
    response = client_for(ops_user).post(
        reverse("admin:incidents_incident_open"),
        {"runbook": "station_redeem", "title": "Scanner double", "vouchers": voucher.code},
    )
    incident = Incident.objects.get()
    assert response.status_code == 302 and incident.title == "Scanner double"
    assert incident.impacted.get().object_id == str(voucher.pk)
    assert AuditEntry.objects.filter(action="incident.opened", actor=ops_user).exists()


def test_the_changelist_shows_mtta_and_mttr(client_for, ops_user, open_incident):
    open_incident()
    body = client_for(ops_user).get(reverse("admin:incidents_incident_changelist")).content.decode()
    assert "MTTA" in body and "MTTR" in body and "Open an incident" in body


def test_the_database_refuses_to_edit_or_delete_a_timeline_entry(open_incident):
    from django.db import DatabaseError, transaction

    entry = open_incident().timeline.first()
    with pytest.raises(DatabaseError), transaction.atomic():
        TimelineEntry.objects.filter(pk=entry.pk).update(message="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        TimelineEntry.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.message.startswith("Opened")


def test_the_page_query_count_does_not_grow_with_runs_and_approvals(
    client_for, admin_user, ops_user, open_incident, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from incidents.services import approval_decide, step_run_request

    incident = open_incident("credential_leak")
    step = incident.steps.get(key="invalidate_sessions")
    client = client_for(admin_user)
    url = reverse("admin:incidents_incident_work", args=[incident.pk])

    def approve_one(flag):
        approval = step_run_request(step=step, actor=ops_user, params={"revoke_api_tokens": flag})
        approval_decide(approval=approval, actor=admin_user, approve=True)
        # As a worker would: one real run of a step at a time (incidents.services.runs).
        step.runs.filter(status="queued").update(status="succeeded", finished_at=timezone.now())

    approve_one(True)
    client.get(url)  # warm-up: per-process caches (content types, integrations status)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    approve_one(False)
    approve_one(True)
    with CaptureQueriesContext(connection) as more:
        assert client.get(url).status_code == 200
    assert len(more) == len(few)


@pytest.mark.parametrize(
    "form",
    [
        {"op": "skip", "step": "abc", "note": "x"},
        {"op": "run", "step": ""},
        {"op": "check", "step": "٣"},  # a digit, but not an ASCII one
        {"op": "rerun", "run": "x"},
        {"op": "approve", "approval": "1e3"},
    ],
)
def test_a_malformed_id_in_a_button_form_is_a_message_not_a_500(
    client_for, admin_user, open_incident, form
):
    incident = open_incident("credential_leak")
    before = TimelineEntry.objects.filter(incident=incident).count()
    client = client_for(admin_user)
    response = client.post(
        reverse("admin:incidents_incident_act", args=[incident.pk]), form, follow=True
    )
    assert response.status_code == 200
    assert "is not a valid id" in response.content.decode()
    assert TimelineEntry.objects.filter(incident=incident).count() == before
