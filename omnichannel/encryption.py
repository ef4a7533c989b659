"""Encryption of what we keep only for a while (conversation archives, data-request exports).

Fernet (AES-128-CBC with an HMAC-SHA256, from `cryptography`): a token says nothing without the
key, and a changed byte is refused rather than decrypted into garbage. The keys come from
ARCHIVE_ENCRYPTION_KEY (comma-separated: the first encrypts, every one decrypts, so a key is
rotated by putting the new one first and dropping the old one once its archives are gone).
Embedded/dev mode without the variable derives a key from the SECRET_KEY; production refuses
to start without it (omnichannel/settings.py).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from omnichannel.errors import ApplicationError


def _fernet() -> MultiFernet:
    keys = list(settings.ARCHIVE_ENCRYPTION_KEYS) or [
        base64.urlsafe_b64encode(hashlib.sha256(b"archive-encryption:" + settings.SECRET_KEY.encode()).digest())]
    return MultiFernet([Fernet(key) for key in keys])


def archive_encrypt(data: bytes) -> bytes:
    return _fernet().encrypt(bytes(data))


def archive_decrypt(token: bytes) -> bytes:
    try:
        return _fernet().decrypt(bytes(token))
    except InvalidToken:
        raise ApplicationError("the archive cannot be decrypted with ARCHIVE_ENCRYPTION_KEY (a key that was rotated "
                               "out, or a damaged file)") from None
