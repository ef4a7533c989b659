"""What every API view shares: permissions that follow the admin groups, 405 before 403, pagination,
throttling per token."""

from __future__ import annotations

import hashlib

from django.core.exceptions import ImproperlyConfigured
from rest_framework.exceptions import MethodNotAllowed, NotFound, ParseError, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission, DjangoModelPermissions
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from omnichannel.json_input import TOO_DEEP, json_too_deep
from omnichannel.roles import OPS


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, refusing JSON nested too deep with a 400 (omnichannel/json_input.py says why)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - {TOO_DEEP}") from None
        if json_too_deep(data):
            raise ParseError(f"JSON parse error - {TOO_DEEP}")
        return data


class GroupModelPermissions(DjangoModelPermissions):
    """Reads need the model's `view` permission (Agents and Ops have it for what they may see);
    writes need add/change/delete, as in the admin. Anonymous requests never pass."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": [],
    }


class IsOps(BasePermission):
    """Members of the Ops group (and superusers): for actions the admin leaves to Ops, such as erasure."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and (user.is_superuser or user.groups.filter(name=OPS).exists()))


class MethodCheckedFirst:
    """A view mixin: an authenticated request with a method the route does not serve is a 405, not the
    403 its permission check would give first (DRF checks permissions before it looks the method up).
    Anonymous requests still get their 401 first: nothing about the API is told to strangers."""

    def check_permissions(self, request):
        method = request.method.lower()
        serves = method in self.http_method_names and hasattr(self, method)
        if not serves and request.user and request.user.is_authenticated:
            raise MethodNotAllowed(request.method)
        super().check_permissions(request)


class IdCursorPagination(CursorPagination):
    """Stable, O(1) pages on big tables: a cursor over the primary key, newest first.

    The cursor is base64 the client can rewrite: a position that is not an id ("p=abc") went
    straight into `id < 'abc'`, a ValueError and a 500 on every list. A cursor we did not give
    out, and a page_size that is not a whole number in range (DRF quietly used the default),
    are answered 400 naming the parameter."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            cursor = None
            valid = False
        else:
            valid = cursor is None or cursor.position is None or _whole_number(cursor.position)
        if not valid:
            raise ValidationError({self.cursor_query_param: "not a cursor this API gave out; start again without it"})
        return cursor

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and not (_whole_number(raw) and 1 <= int(raw) <= self.max_page_size):
            raise ValidationError({self.page_size_query_param: f"must be a whole number from 1 to {self.max_page_size}"})
        return super().get_page_size(request)


def _whole_number(text: str) -> bool:
    digits = text.removeprefix("-")
    return digits.isascii() and digits.isdigit() and len(digits) <= 19  # a bigint id, never past its range


class TokenRateThrottle(SimpleRateThrottle):
    """Requests per API token (per user for session logins), at REST_FRAMEWORK's `token` rate.

    The rate is read per request, not once at import as DRF's own throttles do, so a settings
    change (a test, a reload) takes effect. The cache key holds a hash of the token, never the token.
    """

    scope = "token"

    def get_rate(self):
        try:
            return api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        except KeyError:
            raise ImproperlyConfigured(f"REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'] has no {self.scope!r} rate") from None

    def allow_request(self, request, view):
        self.rate = self.get_rate()  # DRF parses the rate in __init__; re-read it for every request
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        token = getattr(request.auth, "key", None)
        if token:
            ident = "t-" + hashlib.sha256(token.encode()).hexdigest()[:32]
        elif request.user and request.user.is_authenticated:
            ident = f"u-{request.user.pk}"
        else:
            ident = "a-" + self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
