"""The header's search box: incidents by number or title, vouchers by exact code, stations,
campaigns, audit entries by target — each kind only for roles that may read it, bounded
queries, and a search writes nothing."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEntry
from campaigns.models import Campaign
from incidents.services import incident_open
from opsportal.search import LIMIT

pytestmark = pytest.mark.django_db
SEARCH = "/admin/search/"


@pytest.fixture
def world(voucher_factory, station_with_token, support_user):
    station, _ = station_with_token
    voucher = voucher_factory()
    incident, _ = incident_open(
        runbook_key="station_redeem",
        actor=support_user,
        dedup_key="search",
        title="Remera pumps refuse vouchers",
    )
    campaign = Campaign.objects.create(name="Remera weekend promo", template="promo_v1")
    return {"station": station, "voucher": voucher, "incident": incident, "campaign": campaign}


def found(client, q: str) -> dict[str, str]:
    response = client.get(SEARCH, {"q": q})
    assert response.status_code == 200
    html = response.content.decode()
    return {
        kind: html
        for kind in ("incidents", "vouchers", "stations", "campaigns", "audit")
        if f'id="search-{kind}"' in html
    } | {"_html": html}


def test_every_page_has_the_search_box(client_for, support_user):
    html = client_for(support_user).get("/admin/").content.decode()
    assert '<form id="portal-search" role="search"' in html
    assert '<label for="portal-search-q"' in html


def test_a_voucher_by_its_exact_code_and_its_audit_trail_for_ops(client_for, ops_user, world):
    from vouchers.services import voucher_void

    voucher = world["voucher"]
    voucher_void(voucher=voucher, reason="customer complaint", actor=ops_user)

    html = found(client_for(ops_user), voucher.code.lower())["_html"]

    assert f'href="/admin/vouchers/voucher/{voucher.pk}/change/">{voucher.code}</a>' in html
    audit = html.split('id="search-audit"', 1)[1]
    assert 'data-kind="audit"' in audit and "voucher.void" in audit
    assert f"target_type=vouchers.voucher&amp;target_id={voucher.pk}" in audit


def test_a_partial_voucher_code_finds_nothing(client_for, ops_user, world):
    html = found(client_for(ops_user), world["voucher"].code[:6])["_html"]
    assert world["voucher"].code not in html


def test_incidents_by_number_and_title_stations_and_campaigns(client_for, support_user, world):
    client = client_for(support_user)
    incident = world["incident"]
    assert f"#{incident.pk} Remera pumps" in found(client, f"#{incident.pk}")["_html"]
    html = found(client, "remera")["_html"]
    assert "Remera pumps refuse vouchers" in html
    assert "KGL-001 — Kigali Remera" in html
    assert "Remera weekend promo" in html


def test_support_sees_no_audit_entries(client_for, support_user, world):
    kinds = found(client_for(support_user), world["voucher"].code)
    assert "vouchers" in kinds and "audit" not in kinds


def test_a_role_without_voucher_access_sees_no_voucher(client, django_user_model, world):
    reader = django_user_model.objects.create_user("inc-reader", password="x" * 20, is_staff=True)
    group = Group.objects.create(name="incident readers")
    from django.contrib.auth.models import Permission

    group.permissions.add(Permission.objects.get(codename="view_incident"))
    reader.groups.add(group)
    client.force_login(reader)

    kinds = found(client, world["voucher"].code)

    assert set(kinds) - {"_html"} == {"incidents"}
    assert 'data-kind="vouchers"' not in kinds["_html"]


def test_the_search_writes_nothing_and_its_queries_are_bounded(client_for, admin_user, world):
    client = client_for(admin_user)
    client.get("/admin/")
    audit_before = AuditEntry.objects.count()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(SEARCH, {"q": world["voucher"].code})
    assert response.status_code == 200
    statements = [q["sql"].lstrip().split()[0].upper() for q in captured.captured_queries]
    assert set(statements) <= {"SELECT", "SAVEPOINT", "RELEASE"}, statements
    assert AuditEntry.objects.count() == audit_before
    for sql in (q["sql"] for q in captured.captured_queries):
        if '"vouchers_voucher"' in sql or '"audit_auditentry"' in sql:
            assert "LIKE" not in sql.upper(), sql
            assert f"LIMIT {LIMIT}" in sql, sql


def test_an_empty_or_huge_query_is_fine(client_for, support_user):
    client = client_for(support_user)
    assert client.get(SEARCH).status_code == 200
    assert client.get(SEARCH, {"q": "x" * 5000}).status_code == 200
    assert client.post(SEARCH, {"q": "x"}).status_code == 405
