"""`Authorization: Token <token>` against hashed, expiring tokens (accounts.models.ApiToken).

The header and keyword are DRF's TokenAuthentication's, so clients keep working; only the lookup
differs: by the token's SHA-256, never by the token itself.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.authentication import SessionScheme
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from accounts.models import ApiToken
from accounts.services import api_token_digest
from accounts.two_factor import otp_missing

# last_used_at is written at most this often per token: not one UPDATE per API call.
LAST_USED_PRECISION = timedelta(hours=1)


class HashedTokenAuthentication(TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key: str):
        token = ApiToken.objects.select_related("user").filter(digest=api_token_digest(key)).first()
        now = timezone.now()
        if token is None or token.revoked_at is not None:
            raise AuthenticationFailed("Invalid token.")
        if token.expires_at <= now:
            raise AuthenticationFailed("Token expired: ask for a new one (manage.py drf_create_token USER).")
        if not token.user.is_active:
            raise AuthenticationFailed("User inactive or deleted.")
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token


class VerifiedSessionAuthentication(SessionAuthentication):
    """The admin's session on the API, except for a user who must use two-factor and has not: the API
    is no way around the admin's login."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and otp_missing(request._request, result[0]):
            return None
        return result


class VerifiedSessionScheme(SessionScheme):
    """The OpenAPI schema documents it as the cookie session it is (drf-spectacular extension)."""

    target_class = "accounts.authentication.VerifiedSessionAuthentication"
