"""The erasure tombstones kept outside the database too, so that a restored backup cannot undo an erasure.

A backup taken before an erasure holds the customer's PII and no tombstone. So every erasure also
writes its tombstones (kind, keyed hash, time: never the address or the id itself) to the blob store,
after commit (customers/services_erasure.py), as one new object under `erasure-ledger/` that is never
rewritten: an append-only ledger that works the same on the filesystem and on S3 (which cannot append
to an object). A key may appear in several entries (a second erasure of the same person); the latest
time wins. `restore_db` replays it into the restored database (customers/services_erasure_replay.py),
whose erasures append their tombstones again; the replay then compacts the ledger
(`erasure_ledger_compact`): one object, one row per key, however often a backup is restored.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from django.utils import timezone

from customers.models import ErasureTombstone
from omnichannel.blobstore import blob_delete, blob_get, blob_list, blob_put_named

LEDGER_PREFIX = "erasure-ledger"


def erasure_ledger_append(tombstones: list[ErasureTombstone]) -> str:
    """One new ledger object for one erasure's tombstones; its key (time first, so keys sort by time)."""
    return blob_put_named(_new_key(), _entry([{"kind": t.kind, "key": t.key, "erased_at": t.erased_at.isoformat()}
                                              for t in tombstones]))


def _entry(rows) -> bytes:
    return json.dumps({"version": 1, "tombstones": rows}, sort_keys=True).encode()


def _new_key() -> str:
    return f"{LEDGER_PREFIX}/{timezone.now():%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex}.json"


def _merged(blob_keys: list[str]) -> dict[str, tuple[str, datetime]]:
    found: dict[str, tuple[str, datetime]] = {}
    for blob_key in blob_keys:
        for row in json.loads(blob_get(blob_key))["tombstones"]:
            erased_at = datetime.fromisoformat(row["erased_at"])
            if row["key"] not in found or found[row["key"]][1] < erased_at:
                found[row["key"]] = (row["kind"], erased_at)
    return found


def erasure_ledger_read() -> dict[str, tuple[str, datetime]]:
    """{tombstone key: (kind, latest erasure time)} over every ledger entry."""
    return _merged(blob_list(LEDGER_PREFIX))


def erasure_ledger_compact() -> int:
    """Rewrite the ledger as one object with one row per key (its latest time); returns the objects merged.
    The merged object is written before the ones it replaces are deleted, and an erasure appending
    meanwhile writes an object not in the list read here: a crash or a race leaves duplicates, never a gap."""
    blob_keys = blob_list(LEDGER_PREFIX)
    if len(blob_keys) < 2:
        return 0
    merged = _merged(blob_keys)
    blob_put_named(_new_key(), _entry([{"kind": kind, "key": key, "erased_at": at.isoformat()}
                                       for key, (kind, at) in sorted(merged.items())]))
    for blob_key in blob_keys:
        blob_delete(blob_key)
    return len(blob_keys)
