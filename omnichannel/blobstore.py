"""Blob store on Django's storage API, content-addressed by sha256.

The same bytes stored twice are stored once: the key is derived from the content. Two backends:
- the filesystem under BLOB_ROOT (the embedded default, one machine);
- an S3-compatible bucket (AWS S3, MinIO) through django-storages when BLOB_BUCKET is set, so every
  web and worker machine reads and writes the same blobs. Nothing is then written under VAR_DIR: reads
  are buffered in memory and large files (backups) stream through the system's temporary directory.

Keys are the same on both ("attachments/ab/cd/<sha256>", "backups/db-….dump"), so a store can be
copied from one to the other (`aws s3 sync var/blobs s3://bucket/`).
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage


@dataclass(frozen=True)
class StoredBlob:
    key: str
    sha256: str
    size: int
    created: bool


def _s3_storage() -> Storage:
    # Only with BLOB_BUCKET: the filesystem store needs neither boto nor django-storages.
    from botocore.config import Config
    from storages.backends.s3 import S3Storage

    return S3Storage(
        bucket_name=settings.BLOB_BUCKET,
        endpoint_url=settings.BLOB_ENDPOINT_URL or None,
        region_name=settings.BLOB_REGION,
        access_key=settings.BLOB_ACCESS_KEY_ID or None,
        secret_key=settings.BLOB_SECRET_ACCESS_KEY or None,
        location=settings.BLOB_PREFIX,
        file_overwrite=True,  # a key names its content (or is replaced on purpose): never invent another name
        default_acl=None,  # the bucket's policy decides; blobs are private customer data
        querystring_auth=True,
        # A read is buffered in memory up to this size, then spills to the system's temporary directory.
        max_memory_size=64 * 1024 * 1024,
        client_config=Config(
            # Path-style addressing for MinIO and other endpoints without wildcard DNS for <bucket>.<host>.
            s3={"addressing_style": "path" if settings.BLOB_ENDPOINT_URL else "auto"},
            connect_timeout=5, read_timeout=60,
            # botocore's standard mode: bounded retries with backoff on throttling, 5xx and connection errors.
            retries={"max_attempts": 5, "mode": "standard"},
        ),
    )


@lru_cache(maxsize=1)
def get_storage() -> Storage:
    if settings.BLOB_BUCKET:
        return _s3_storage()
    return FileSystemStorage(location=str(settings.BLOB_ROOT))


def blob_backend() -> str:
    """"s3://bucket/prefix" or the filesystem directory: for logs, /readyz and the commands' output."""
    if settings.BLOB_BUCKET:
        return f"s3://{settings.BLOB_BUCKET}/{settings.BLOB_PREFIX}".rstrip("/")
    return str(settings.BLOB_ROOT)


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
        # free name for ours: the content is identical by construction, so keep one copy. (S3 overwrites
        # in place instead: the object is replaced by the same bytes.)
        storage.delete(saved)
        return StoredBlob(key=key, sha256=digest, size=len(data), created=False)
    return StoredBlob(key=saved, sha256=digest, size=len(data), created=True)


def _put_replacing(key: str, content: File) -> str:
    storage = get_storage()
    if not getattr(storage, "file_overwrite", False) and storage.exists(key):
        storage.delete(key)  # the filesystem would otherwise save under a new name
    return storage.save(key, content)


def blob_put_named(key: str, data: bytes) -> str:
    """Store bytes under a chosen key (archives, CSV reports, backups), replacing what was there."""
    return _put_replacing(key, ContentFile(bytes(data)))


def blob_put_file(key: str, path: Path) -> str:
    """Store a file under a chosen key, replacing what was there, streamed (multipart on S3): for
    backups, which need not fit in memory."""
    with open(path, "rb") as handle:
        return _put_replacing(key, File(handle, name=Path(path).name))


def blob_get(key: str) -> bytes:
    """The blob's bytes; FileNotFoundError when there is no such key (on either backend)."""
    with get_storage().open(key, "rb") as handle:
        return handle.read()


def blob_get_to_file(key: str, path: Path) -> None:
    """Copy a blob into a local file in chunks (restoring a backup larger than memory)."""
    with get_storage().open(key, "rb") as source, open(path, "wb") as target:
        shutil.copyfileobj(source, target, length=8 * 1024 * 1024)


def blob_exists(key: str) -> bool:
    return get_storage().exists(key)


def blob_delete(key: str) -> None:
    get_storage().delete(key)


def blob_list(prefix: str) -> list[str]:
    """The keys directly under a prefix (not its sub-prefixes), sorted."""
    storage = get_storage()
    try:
        _dirs, files = storage.listdir(prefix)
    except FileNotFoundError:
        return []
    return sorted(f"{prefix.rstrip('/')}/{name}" for name in files)
