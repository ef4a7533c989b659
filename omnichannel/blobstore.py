"""Blob store on Django's storage API, content-addressed by sha256.

The same bytes stored twice are stored once: the key is derived from the content. The
filesystem backend under BLOB_ROOT is the default; any Django storage (S3 through
django-storages, for BLOB_BUCKET) drops in through `get_storage()`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage


@dataclass(frozen=True)
class StoredBlob:
    key: str
    sha256: str
    size: int
    created: bool


@lru_cache(maxsize=1)
def get_storage() -> Storage:
    return FileSystemStorage(location=str(settings.BLOB_ROOT))


def _content_key(digest: str, prefix: str) -> str:
    # Two levels of fan-out keep directories small on a filesystem backend.
    return f"{prefix}/{digest[:2]}/{digest[2:4]}/{digest}"


def blob_put(data: bytes, *, prefix: str = "sha256") -> StoredBlob:
    """Store bytes under their content hash; storing the same bytes again writes nothing."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("blob_put takes bytes")
    data = bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    key = _content_key(digest, prefix)
    storage = get_storage()
    if storage.exists(key):
        return StoredBlob(key=key, sha256=digest, size=len(data), created=False)
    saved = storage.save(key, ContentFile(data))
    if saved != key:
        # Another writer stored the same bytes between exists() and save(), and the storage picked a
        # free name for ours: the content is identical by construction, so keep one copy.
        storage.delete(saved)
        return StoredBlob(key=key, sha256=digest, size=len(data), created=False)
    return StoredBlob(key=saved, sha256=digest, size=len(data), created=True)


def blob_put_named(key: str, data: bytes) -> str:
    """Store bytes under a chosen key (archives, CSV reports, backups), replacing what was there."""
    storage = get_storage()
    if storage.exists(key):
        storage.delete(key)
    return storage.save(key, ContentFile(bytes(data)))


def blob_get(key: str) -> bytes:
    with get_storage().open(key, "rb") as handle:
        return handle.read()


def blob_exists(key: str) -> bool:
    return get_storage().exists(key)


def blob_delete(key: str) -> None:
    get_storage().delete(key)


def blob_list(prefix: str) -> list[str]:
    storage = get_storage()
    try:
        _dirs, files = storage.listdir(prefix)
    except FileNotFoundError:
        return []
    return sorted(f"{prefix.rstrip('/')}/{name}" for name in files)
