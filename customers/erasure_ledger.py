"""The erasure tombstones kept outside the database too, so that a restored backup cannot undo an erasure.

A backup taken before an erasure holds the customer's PII and no tombstone. So every erasure also
writes its tombstones (kind, keyed hash, time: never the address or the id itself) to the blob store,
after commit (customers/services_erasure.py), as one new object under `erasure-ledger/` that is never
rewritten: an append-only ledger that works the same on the filesystem and on S3 (which cannot append
to an object). A key may appear in several entries (a second erasure of the same person); the latest
time wins. `restore_db` replays it into the restored database (customers/services_erasure_replay.py).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from django.utils import timezone

from customers.models import ErasureTombstone
from omnichannel.blobstore import blob_get, blob_list, blob_put_named

LEDGER_PREFIX = "erasure-ledger"


def erasure_ledger_append(tombstones: list[ErasureTombstone]) -> str:
    """One new ledger object for one erasure's tombstones; its key (time first, so keys sort by time)."""
    entry = {"version": 1, "tombstones": [{"kind": t.kind, "key": t.key, "erased_at": t.erased_at.isoformat()}
                                          for t in tombstones]}
    key = f"{LEDGER_PREFIX}/{timezone.now():%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex}.json"
    return blob_put_named(key, json.dumps(entry, sort_keys=True).encode())


def erasure_ledger_read() -> dict[str, tuple[str, datetime]]:
    """{tombstone key: (kind, latest erasure time)} over every ledger entry."""
    found: dict[str, tuple[str, datetime]] = {}
    for blob_key in blob_list(LEDGER_PREFIX):
        for row in json.loads(blob_get(blob_key))["tombstones"]:
            erased_at = datetime.fromisoformat(row["erased_at"])
            if row["key"] not in found or found[row["key"]][1] < erased_at:
                found[row["key"]] = (row["kind"], erased_at)
    return found
