"""The campaign list: each row's state in words and a progress column (sent / total and a
bar), from one grouped query for the whole page — never a COUNT per row."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.models import Target

pytestmark = pytest.mark.django_db
LIST = "/admin/campaigns/campaign/"


def test_progress_and_state_words_per_row(client_for, support_user, campaign_factory):
    running = campaign_factory(4, name="Weekend promo")
    Target.objects.filter(pk__in=running.targets.values("pk")[:3]).update(status="sent")
    campaign_factory(2, name="Draft promo", state="draft")

    html = client_for(support_user).get(LIST).content.decode()

    assert 'data-sent="3" data-total="4">3 / 4 sent' in html
    assert "sending — 3 of 4 sent" in html
    assert "draft — not started, 2 targets" in html


def test_the_page_costs_the_same_queries_for_3_or_30_campaigns(
    client_for, support_user, campaign_factory
):
    client = client_for(support_user)
    for i in range(3):
        campaign_factory(5, name=f"c{i}")
    client.get(LIST)  # warm the session and permission caches

    def queries() -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(LIST).status_code == 200
        return [q["sql"] for q in captured.captured_queries]

    few = queries()
    for i in range(3, 30):
        campaign_factory(5, name=f"c{i}")
    many = queries()

    assert len(many) == len(few)
    target_queries = [q for q in many if 'FROM "campaigns_target"' in q]
    assert len(target_queries) == 1 and "GROUP BY" in target_queries[0]
