"""What every API view shares: permissions that follow the admin groups, pagination."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination
from rest_framework.permissions import DjangoModelPermissions


class GroupModelPermissions(DjangoModelPermissions):
    """Reads need the model's `view` permission (Agents and Ops have it for what they may see);
    writes need add/change/delete, as in the admin. Anonymous requests never pass."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": [],
    }


class IdCursorPagination(CursorPagination):
    """Stable, O(1) pages on big tables: a cursor over the primary key, newest first."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
