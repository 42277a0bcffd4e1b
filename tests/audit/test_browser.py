"""The auditor's browser: filters, newest first, keyset pages, bounded queries, read-only."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from audit.links import audit_entries_url
from audit.models import AuditEntry
from audit.sealing import audit_seal
from audit.selectors import PAGE_SIZE
from tests.audit.factories import T0, entries

BROWSE = "/admin/audit/auditentry/browse/"


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content[:500]
    return [
        int(i)
        for i in re.findall(rb'href="/admin/audit/auditentry/browse/(\d+)/"', response.content)
    ]


@pytest.fixture
def log(db):
    """60 hourly entries: two actors, three actions, targets, incidents."""
    return entries(
        60,
        actor_name=lambda i: "olga-ops" if i % 2 else "ada-admin",
        action=lambda i: ["voucher.redeemed", "campaign.started", "incident.opened"][i % 3],
        target_type=lambda i: "vouchers.voucher" if i % 3 == 0 else "campaigns.campaign",
        target_id=lambda i: str(i % 5),
        target_repr=lambda i: f"Voucher V-{i:04d}" if i % 3 == 0 else f"Campaign spring {i}",
        incident_id=lambda i: 7 if i % 10 == 0 else None,
    )


def _expected(log, pred):
    return [e.id for e in sorted(log, key=lambda e: (e.at, e.id), reverse=True) if pred(e)][
        :PAGE_SIZE
    ]


def test_url_is_under_the_admin():
    assert reverse("admin:audit_auditentry_browse") == BROWSE


def test_the_admin_changelist_links_to_the_browser(client_for, auditor_user, log):
    html = client_for(auditor_user).get("/admin/audit/auditentry/").content.decode()
    assert f'<a href="{BROWSE}">Auditor' in html


def test_newest_first(client_for, auditor_user, log):
    ids = _ids(client_for(auditor_user).get(BROWSE, {"action": "test.nothing"}))
    assert ids == []
    ids = _ids(client_for(auditor_user).get(BROWSE, {"actor": "olga-ops"}))
    assert ids == _expected(log, lambda e: e.actor_name == "olga-ops")


@pytest.mark.parametrize(
    "params, pred",
    [
        ({"actor": "ada-admin"}, lambda e: e.actor_name == "ada-admin"),
        ({"action": "campaign.started"}, lambda e: e.action == "campaign.started"),
        ({"target_type": "vouchers.voucher"}, lambda e: e.target_type == "vouchers.voucher"),
        (
            {"target_type": "campaigns.campaign", "target_id": "2"},
            lambda e: e.target_type == "campaigns.campaign" and e.target_id == "2",
        ),
        ({"incident": "7"}, lambda e: e.incident_id == 7),
        (
            {"since": "2026-01-02", "until": "2026-01-02T06:00"},
            lambda e: T0 + timedelta(days=1) <= e.at < T0 + timedelta(days=1, hours=6),
        ),
        ({"q": "v-004"}, lambda e: "v-004" in e.target_repr.lower()),
        (
            {"actor": "olga-ops", "since": "2026-01-01T10:00", "until": "2026-01-02"},
            lambda e: (
                e.actor_name == "olga-ops"
                and T0 + timedelta(hours=10) <= e.at < T0 + timedelta(days=1)
            ),
        ),
    ],
)
def test_each_filter(client_for, auditor_user, log, params, pred):
    expected = _expected(log, pred)
    assert expected  # the fixture has matches for every case
    assert _ids(client_for(auditor_user).get(BROWSE, params)) == expected


def test_keyset_pages_cover_everything_once(client_for, auditor_user, db, monkeypatch):
    made = entries(23, action="test.pages", start=T0, step=timedelta(minutes=1))
    # Two entries at the same instant: the id breaks the tie, nothing is skipped.
    made += entries(2, action="test.pages", start=T0 + timedelta(minutes=5), step=timedelta(0))
    client = client_for(auditor_user)
    monkeypatch.setattr("audit.selectors.PAGE_SIZE", 10)
    seen, url, pages, first_page = [], f"{BROWSE}?action=test.pages", 0, None
    while url:
        response = client.get(url)
        ids = _ids(response)
        first_page = first_page or ids
        seen += ids
        pages += 1
        older = re.search(rb'href="\?([^"]*before=[^"]*)">Older', response.content)
        url = f"{BROWSE}?{older.group(1).decode().replace('&amp;', '&')}" if older else None
        if pages == 2:
            newer = re.search(rb'href="\?([^"]*after=[^"]*)">', response.content)
            back = client.get(f"{BROWSE}?{newer.group(1).decode().replace('&amp;', '&')}")
            assert _ids(back) == first_page
    assert pages == 3
    assert seen == [e.id for e in sorted(made, key=lambda e: (e.at, e.id), reverse=True)]


@pytest.mark.parametrize(
    "params",
    [
        {"incident": "abc"},
        {"since": "yesterday"},
        {"since": "2026-02-01", "until": "2026-01-01"},
        {"before": "nonsense"},
        {"after": "1.x"},
        {"actor": "x" * 500},
    ],
)
def test_bad_input_is_a_400(client_for, auditor_user, params):
    assert client_for(auditor_user).get(BROWSE, params).status_code == 400


@pytest.mark.parametrize("size", [5, 200])
def test_query_count_does_not_grow_with_the_table(
    client_for, auditor_user, settings, django_assert_max_num_queries, size
):
    # Count this page's own queries: other apps' context processors (the integrations
    # banners) add their own, bounded, queries to every admin page.
    settings.TEMPLATES = [
        {
            **t,
            "OPTIONS": {
                **t["OPTIONS"],
                "context_processors": [
                    p for p in t["OPTIONS"]["context_processors"] if p.startswith("django.")
                ],
            },
        }
        for t in settings.TEMPLATES
    ]
    entries(
        size,
        action=lambda i: f"test.kind{i % 4}",
        target_type="t.thing",
        target_id=lambda i: str(i),
    )
    audit_seal()  # fills the filter choices table
    client = client_for(auditor_user)
    client.get(BROWSE)  # warm the session
    for params in [
        {},
        {"action": "test.kind1"},
        {"target_type": "t.thing", "target_id": "3"},
        {"q": "thing", "since": "2026-01-01"},
    ]:
        # session, user, 2x permissions, the page, filter choices, staff names, estimate
        with django_assert_max_num_queries(8):
            assert client.get(BROWSE, params).status_code == 200
    entry_id = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first()
    with django_assert_max_num_queries(6):
        assert client.get(f"{BROWSE}{entry_id}/").status_code == 200


def test_filter_choices_come_from_the_terms_table(client_for, auditor_user, db):
    entries(3, action="test.choice", target_type="t.choice")
    audit_seal()
    content = client_for(auditor_user).get(BROWSE).content.decode()
    assert '<option value="test.choice">' in content
    assert '<option value="t.choice">' in content
    assert '<option value="aud-auditor">' in content


def test_entry_page_shows_everything(client_for, auditor_user, db):
    (entry,) = entries(
        1,
        action="test.detail",
        target_type="auth.user",
        target_id=str(auditor_user.pk),
        target_repr="aud-auditor",
        incident_id=42,
        request_id="req-abc-123",
        data={"reason": "checking <things>", "count": 3},
    )
    response = client_for(auditor_user).get(f"{BROWSE}{entry.id}/")
    content = response.content.decode()
    assert response.status_code == 200
    assert "req-abc-123" in content and "&quot;reason&quot;" in content
    assert "checking &lt;things&gt;" in content  # escaped
    assert f'href="/admin/auth/user/{auditor_user.pk}/change/"' in content
    assert "?incident=42" in content and "not sealed yet" in content
    audit_seal()
    assert "prev <code>" in client_for(auditor_user).get(f"{BROWSE}{entry.id}/").content.decode()
    assert client_for(auditor_user).get(f"{BROWSE}999999999/").status_code == 404


def test_link_helper_lists_one_objects_entries(client_for, auditor_user, db):
    entries(3, target_type="vouchers.voucher", target_id="123", action="test.link")
    entries(2, target_type="vouchers.voucher", target_id="124", action="test.link")
    url = audit_entries_url(target_type="vouchers.voucher", target_id=123)
    assert url == f"{BROWSE}?target_type=vouchers.voucher&target_id=123"
    assert len(_ids(client_for(auditor_user).get(url))) == 3
    assert audit_entries_url(auditor_user).endswith(
        f"target_type=auth.user&target_id={auditor_user.pk}"
    )
    assert audit_entries_url(incident_id=9) == f"{BROWSE}?incident=9"
