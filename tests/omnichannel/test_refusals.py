"""An agent who follows a link to an Ops page is refused in the site's frame, with a way back."""

from __future__ import annotations

import pytest

from tests.builders import logged_in_client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", [
    "/admin/omnichannel/auditlog/",
    "/admin/faq/correction/add/",
    "/admin/conversations/privacyrequest/",
    "/admin/customers/datarequest/",
])
def test_an_agent_is_refused_ops_pages_with_a_way_back_and_nothing_of_the_page(path):
    agent = logged_in_client("Agents", "grace")
    response = agent.get(path, follow=True)
    assert response.status_code == 403
    page = response.content.decode()
    assert "You can't open this page" in page and "(Agents)" in page
    assert 'href="/admin/" id="back-home"' in page
    assert 'href="/admin/conversations/draft/?status__exact=pending"' in page  # back to the work
    assert "result_list" not in page and "Select " not in page  # no list, no title of the refused page
