"""Django's ModelBackend with each user's permission set cached across requests.

Every API request is a new user object, so ModelBackend ran its two permission queries (user and
group permissions) on each one: ~5.5 ms of a ~20 ms customer-summary request. The set is cached
under a global version that any change to who holds which permission bumps (group membership,
a user's or a group's permissions, groups and permissions themselves), so a change takes effect
on the next request; the TTL bounds what a process with a local-memory cache can miss.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save

VERSION_KEY = "auth:perms:version"
TTL_SECONDS = 60


def _version() -> int:
    return cache.get_or_set(VERSION_KEY, 1, None)


def permissions_changed(**_kwargs) -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # not set yet (or evicted): any new value invalidates what was cached
        cache.set(VERSION_KEY, 2, None)


class CachedPermissionsBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if obj is not None or not user_obj.is_active or user_obj.is_anonymous:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            # date_joined too: a test database reuses primary keys while the cache lives on.
            key = f"auth:perms:{_version()}:{user_obj.pk}:{user_obj.date_joined.timestamp()}"
            perms = cache.get(key)
            if perms is None:
                perms = super().get_all_permissions(user_obj)
                cache.set(key, perms, TTL_SECONDS)
            user_obj._perm_cache = perms
        return user_obj._perm_cache


def connect_signals() -> None:
    user_model = get_user_model()
    for through in (user_model.groups.through, user_model.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(permissions_changed, sender=through, dispatch_uid=f"perms-{through._meta.label}")
    for model in (Group, Permission, user_model):
        post_save.connect(permissions_changed, sender=model, dispatch_uid=f"perms-save-{model._meta.label}")
        post_delete.connect(permissions_changed, sender=model, dispatch_uid=f"perms-delete-{model._meta.label}")
