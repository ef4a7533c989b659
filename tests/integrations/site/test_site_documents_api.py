"""Ops add, re-crawl and remove site documents through the API (the same services as the admin), against
a local site that answers conditional GETs; Agents may not."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from accounts.services import api_token_create
from assistants.vectorstore import SITE, index_query
from integrations.models import SiteDocument
from omnichannel.models import AuditLog
from tests.integrations.site.test_site_documents import _page, site  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def _client(group: str, name: str) -> APIClient:
    user = get_user_model().objects.create_user(username=name, password="pw")
    user.groups.add(Group.objects.get(name=group))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=user)[1]}")
    client.user = user
    return client


def test_ops_add_recrawl_and_remove_a_page_and_agents_may_not(site, django_capture_on_commit_callbacks):  # noqa: F811
    site.put("/care", _page("Care", "Reproof a waterproof jacket with a wash-in treatment every season."))
    agent, ops = _client("Agents", "sd-agent"), _client("Ops", "sd-ops")
    url = f"{site.base}/care"
    assert agent.get("/api/site_documents/").status_code == 403
    assert agent.post("/api/site_documents/", {"url": url}, format="json").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        added = ops.post("/api/site_documents/", {"url": url, "kind": "page"}, format="json")
    assert added.status_code == 201, added.content
    listed = ops.get("/api/site_documents/").json()["results"]
    assert [(d["url"], d["kind"], d["status"]) for d in listed] == [(url, "page", "ok")]
    assert listed[0]["chunk_count"] >= 1 and listed[0]["last_crawled_at"]
    assert index_query(SITE, "reproof waterproof jacket wash-in", n=1)[0].metadata["url"] == url
    assert ops.post("/api/site_documents/", {"url": url}, format="json").status_code == 409
    assert ops.post("/api/site_documents/", {"url": "javascript:alert(1)"}, format="json").status_code == 400

    document_id = added.json()["id"]
    assert agent.post(f"/api/site_documents/{document_id}/recrawl/").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        assert ops.post(f"/api/site_documents/{document_id}/recrawl/").status_code == 202
    assert site.answers[-1] == ("/care", 304)
    assert ops.get(f"/api/site_documents/{document_id}/").json()["status"] == "unchanged"

    assert agent.delete(f"/api/site_documents/{document_id}/").status_code == 403
    assert ops.delete(f"/api/site_documents/{document_id}/").status_code == 204
    document = SiteDocument.objects.get(pk=document_id)
    assert document.status == "removed" and document.chunk_count == 0
    assert not [h for h in index_query(SITE, "reproof waterproof jacket wash-in", n=3) if h.metadata["url"] == url]
    assert ops.post(f"/api/site_documents/{document_id}/recrawl/").status_code == 409
    events = AuditLog.objects.filter(object_id=str(document_id), actor_user=ops.user).values_list("event_type", flat=True)
    assert set(events) == {"site_document.added", "site_document.recrawl_requested", "site_document.removed"}
