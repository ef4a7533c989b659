"""The two staff roles and what they may do, kept in code so every environment agrees.

Support agents (`Agents`) read conversations, customers and stock and decide drafts; they
never edit history (approvals, audit rows, raw deliveries). Ops people (`Ops`) additionally
own the knowledge the assistant uses: corrections, FAQ entries and publishing, style
profiles and schedules; and privacy requests, with the erasure of their senders, and data
requests with their exports.
`roles_sync` runs after every `migrate`, so a new model's permissions reach the groups without
a hand-written data migration.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from omnichannel.schedules import schedules_install

AGENTS = "Agents"
OPS = "Ops"

_AGENT_VIEW = [
    "conversations.conversation", "conversations.message", "conversations.triagedmessage", "conversations.draft",
    "conversations.approval",
    "customers.customer", "customers.order", "catalog.inventoryitem", "catalog.productrequest",
    "faq.faqentry", "faq.correction", "faq.faqproposal", "assistants.modelrun", "assistants.styleprofile",
]
_AGENT_EXTRA = ["conversations.decide_draft", "catalog.add_productrequest"]

_OPS_MANAGE = [  # add, change, delete and view
    "faq.faqentry", "faq.correction", "faq.faqproposal", "assistants.styleprofile", "catalog.productrequest",
    "django_celery_beat.periodictask", "django_celery_beat.crontabschedule",
    "django_celery_beat.intervalschedule", "integrations.sitedocument",
]
_OPS_VIEW = [
    "faq.faqpublication", "faq.faqproposalobservation", "omnichannel.auditlog", "omnichannel.webhookdelivery",
    "integrations.shopifycursor", "integrations.zohosyncstate", "integrations.sitesnapshot",
    "omnichannel.deadletter", "conversations.privacyrequest", "customers.datarequest", "customers.erasuretombstone",
]
_OPS_EXTRA = ["faq.publish_faqentry", "omnichannel.requeue_deadletter", "conversations.erase_sender",
              "assistants.view_model_quality"]


def _codenames(models: list[str], actions: tuple[str, ...]) -> list[str]:
    return [f"{m.split('.')[0]}.{a}_{m.split('.')[1]}" for m in models for a in actions]


ROLE_PERMISSIONS: dict[str, list[str]] = {
    AGENTS: _codenames(_AGENT_VIEW, ("view",)) + _AGENT_EXTRA,
    OPS: (_codenames(_AGENT_VIEW, ("view",)) + _AGENT_EXTRA + _codenames(_OPS_MANAGE, ("add", "change", "delete", "view"))
          + _codenames(_OPS_VIEW, ("view",)) + _OPS_EXTRA),
}


def _permissions(names: list[str]) -> list[Permission]:
    query = Q(pk__in=[])
    for name in names:
        app_label, codename = name.split(".", 1)
        query |= Q(content_type__app_label=app_label, codename=codename)
    return list(Permission.objects.filter(query))


def roles_sync() -> dict[str, int]:
    """Create the groups and grant exactly the listed permissions that exist; return counts."""
    granted = {}
    for group_name, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        perms = _permissions(names)
        group.permissions.set(perms)
        granted[group_name] = len(perms)
    return granted


def roles_sync_after_migrate(sender, app_config=None, using="default", **kwargs) -> None:
    # post_migrate fires once per app; the last installed app is the moment every permission exists.
    if app_config is not None and app_config.label == list(apps.get_app_configs())[-1].label:
        roles_sync()
        schedules_install()
