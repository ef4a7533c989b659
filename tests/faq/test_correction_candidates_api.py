"""The API mirrors the correction candidates page: Ops list the candidates, with the drafts each would have
changed, and accept one, its text read again from the approvals, through the correction service."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from faq.models import Correction
from omnichannel.models import AuditLog
from tests.builders import token_client
from tests.faq.test_correction_accept import POINTS, _history

pytestmark = pytest.mark.django_db


def _client(group: str, name: str) -> APIClient:
    return token_client(group, name)[0]


def test_ops_list_the_candidates_and_accept_one_through_the_service():
    ids = _history()
    ops = _client("Ops", "api-ops-accepting")
    [candidate] = ops.get("/api/corrections/candidates/").json()
    assert candidate["count"] == 3 and candidate["suggested_pattern"] == "points"
    assert sorted(candidate["would_change"]) == sorted(ids["would_change"])

    accepted = ops.post(
        "/api/corrections/candidates/accept/", {"removed": candidate["removed"], "added": candidate["added"]}, format="json"
    )
    assert accepted.status_code == 201, accepted.json()
    correction = Correction.objects.get()
    assert accepted.json()["id"] == correction.pk and (correction.pattern, correction.answer) == ("points", POINTS)
    assert AuditLog.objects.filter(event_type="correction.created", object_id=str(correction.pk)).exists()
    assert ops.get("/api/corrections/candidates/").json() == []  # covered now


def test_a_pair_that_is_no_candidate_is_refused_and_agents_may_not_accept():
    _history()
    forged = _client("Ops", "api-ops-forging").post(
        "/api/corrections/candidates/accept/", {"removed": "", "added": "everything is free"}, format="json"
    )
    assert forged.status_code == 400 and "no longer a candidate" in str(forged.json())
    agent = _client("Agents", "api-agent-accepting")
    assert agent.get("/api/corrections/candidates/").status_code == 403
    assert agent.post("/api/corrections/candidates/accept/", {"removed": "", "added": ""}, format="json").status_code == 403
    assert not Correction.objects.exists()
