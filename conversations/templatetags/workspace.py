"""The agents' home panel on the admin index: what waits, with links straight to it."""

from __future__ import annotations

from django import template

from conversations.selectors import workspace_counts

register = template.Library()


@register.inclusion_tag("admin/conversations/home_panel.html", takes_context=True)
def workspace_home(context):
    user = context["request"].user
    if not user.has_perm("conversations.view_draft"):
        return {"show": False}
    return {"show": True, "counts": workspace_counts(), "can_see_conversations": user.has_perm(
        "conversations.view_conversation")}
