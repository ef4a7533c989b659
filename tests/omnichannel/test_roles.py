import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from omnichannel.roles import AGENTS, OPS, roles_sync

pytestmark = pytest.mark.django_db


def _user(group_name: str):
    user = get_user_model().objects.create_user(username=f"u-{group_name}", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    return get_user_model().objects.get(pk=user.pk)  # fresh permission cache


def test_migrate_created_both_groups_with_their_permissions():
    agent, ops = _user(AGENTS), _user(OPS)
    assert agent.has_perm("conversations.view_draft") and agent.has_perm("conversations.decide_draft")
    assert not agent.has_perm("conversations.change_approval")
    assert not agent.has_perm("omnichannel.view_webhookdelivery")
    assert not agent.has_perm("faq.change_correction")
    assert ops.has_perm("faq.change_correction") and ops.has_perm("faq.publish_faqentry")
    assert ops.has_perm("assistants.change_styleprofile") and ops.has_perm("django_celery_beat.change_periodictask")
    assert not ops.has_perm("omnichannel.change_auditlog")


def test_roles_sync_is_idempotent_and_restores_removed_permissions():
    group = Group.objects.get(name=AGENTS)
    first = roles_sync()
    group.permissions.clear()
    assert roles_sync() == first
    assert group.permissions.filter(codename="decide_draft").exists()


def test_agent_reaches_the_draft_queue_in_the_admin(client):
    client.force_login(_user(AGENTS))
    assert client.get("/admin/conversations/draft/", follow=True).status_code == 200
    assert client.get("/admin/omnichannel/auditlog/").status_code == 403
