"""The weekly demand trend: the selector's exact figures and the admin page's inline SVG chart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from lxml import html as lxml_html

from catalog.models import ProductRequest
from catalog.selectors import demand_weekly_trend
from tests.builders import make_inbound_message

pytestmark = pytest.mark.django_db


def monday_now() -> datetime:
    today = datetime.now(UTC).date()
    monday = today - timedelta(days=today.weekday())
    return datetime(monday.year, monday.month, monday.day, 12, tzinfo=UTC)


def _request(normalized: str, when: datetime, count: int = 1) -> None:
    message = make_inbound_message(email=f"buyer{ProductRequest.objects.count()}@example.org", body="x")
    ProductRequest.objects.create(normalized=normalized, description=normalized, conversation=message.conversation,
                                  requested_at=when, count=count)


def demand_fixture(monday: datetime) -> None:
    """kayak: 1 a week for weeks -7..-1 and 3 this week (10); water filter: 2 (one row of count 2) three weeks
    ago and 1 this week (3); stove: 1 last week; an old request nine weeks ago is outside the window."""
    for weeks_ago in range(1, 8):
        _request("inflatable kayak", monday - timedelta(weeks=weeks_ago))
    for day in range(3):
        _request("inflatable kayak", monday + timedelta(days=day))
    _request("water filter", monday - timedelta(weeks=3), count=2)
    _request("water filter", monday + timedelta(hours=1))
    _request("camp stove", monday - timedelta(weeks=1, hours=-30))
    _request("inflatable kayak", monday - timedelta(weeks=9))


def test_the_trend_counts_each_week_of_the_top_requests():
    monday = datetime(2026, 11, 23, 12, tzinfo=UTC)  # 2026-W48
    demand_fixture(monday)
    trend = demand_weekly_trend(weeks=8, top=2, now=monday + timedelta(days=2))
    assert trend.weeks == ["2026-W41", "2026-W42", "2026-W43", "2026-W44", "2026-W45", "2026-W46", "2026-W47",
                           "2026-W48"]
    assert [(s.normalized, s.counts, s.total) for s in trend.series] == [
        ("inflatable kayak", [1, 1, 1, 1, 1, 1, 1, 3], 10),  # week -7 opens the window; week -9 falls outside
        ("water filter", [0, 0, 0, 0, 2, 0, 0, 1], 3),
    ]
    kayak = trend.series[0]
    assert kayak.previous_mean == 1.0 and kayak.trend_score == 1.0  # (3 - 1) / (1 + 1)
    assert trend.max_count == 3


def _ops_client(client):
    user = get_user_model().objects.create_user(username="ops-user", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Ops"))
    client.force_login(user)
    return client


def test_the_admin_page_draws_one_bar_per_week_with_its_count_and_the_table_beside_it(client):
    demand_fixture(monday_now())
    client = _ops_client(client)
    listing = client.get("/admin/catalog/productrequest/").content.decode()
    assert 'href="/admin/catalog/productrequest/trend/"' in listing  # linked from the changelist

    response = client.get("/admin/catalog/productrequest/trend/")
    assert response.status_code == 200
    page = lxml_html.fromstring(response.content)
    [svg] = page.xpath("//svg[@id='demand-chart']")
    lanes = {lane.get("data-request"): lane for lane in svg.xpath(".//g[@class='lane']")}
    assert list(lanes) == ["inflatable kayak", "water filter", "camp stove"]  # most requested first

    def bars(name):
        return [(rect.get("data-week"), int(rect.get("data-count")), float(rect.get("height")))
                for rect in lanes[name].xpath(".//rect")]

    weeks = demand_weekly_trend().weeks
    kayak = bars("inflatable kayak")
    assert [(w, c) for w, c, _ in kayak] == [(w, 1) for w in weeks[:7]] + [(weeks[7], 3)]
    assert {h for _, c, h in kayak if c == 1} == {round(46 / 3, 1)} and kayak[-1][2] == 46.0  # one shared scale
    assert [(w, c) for w, c, _ in bars("water filter")] == [(weeks[4], 2), (weeks[7], 1)]
    assert [(w, c) for w, c, _ in bars("camp stove")] == [(weeks[6], 1)]
    assert "current" in lanes["inflatable kayak"].xpath(".//rect")[-1].get("class")  # this week, still counting
    assert [t.text for t in svg.xpath(".//text[@class='week']")] == [w.split("-")[1] for w in weeks]

    rows = [[cell.text_content().strip() for cell in tr.xpath("./td")]
            for tr in page.xpath("//table[@id='demand-table']/tbody/tr")]
    assert rows == [["inflatable kayak", "10", "3", "1.00", "+1.00"],
                    ["water filter", "3", "1", "0.50", "+0.33"],
                    ["camp stove", "1", "0", "0.25", "-0.20"]]
    assert b"<script" not in response.content.split(b'id="content"')[1]  # drawn on the server, no JavaScript


def test_the_trend_page_refuses_bad_parameters_and_says_when_there_is_nothing(client):
    client = _ops_client(client)
    bad = client.get("/admin/catalog/productrequest/trend/?weeks=many")
    assert bad.status_code == 400 and b"weeks and top must be whole numbers" in bad.content
    assert client.get("/admin/catalog/productrequest/trend/?weeks=100").status_code == 400
    empty = client.get("/admin/catalog/productrequest/trend/").content.decode()
    assert 'id="demand-empty"' in empty and 'id="demand-chart"' not in empty


def test_staff_without_the_view_permission_cannot_see_the_trend(client):
    user = get_user_model().objects.create_user(username="no-perm", password="pw", is_staff=True)
    client.force_login(user)
    assert client.get("/admin/catalog/productrequest/trend/").status_code == 403
