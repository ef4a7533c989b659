"""Forgetting for good in the embedded Chroma store's files (assistants/vectorstore.py's `index_compact`
and `index_reset`): SQLite keeps deleted rows' bytes in free pages, a dropped collection leaves its
segment folder behind, and Chroma writes a vector file's spare capacity from uninitialized memory."""

from __future__ import annotations

import logging
import shutil
import sqlite3
import struct
import uuid
from pathlib import Path

logger = logging.getLogger(__name__)


def embedded_store_vacuum(root: Path) -> None:
    """Rewrite the embedded store's SQLite file (under `root`, CHROMA_PATH) without its free pages (a
    deleted row's bytes stay in them until then), remove the folders of segments no collection uses
    any more (a dropped collection's vectors), and zero the spare capacity of the vector files
    (`_zero_spare_capacity`)."""
    database = root / "chroma.sqlite3"
    if not database.exists():
        return
    # A connection of our own beside Chroma's: VACUUM waits (timeout) for Chroma's writes to finish.
    db = sqlite3.connect(database, timeout=30)
    try:
        segments = {row[0] for row in db.execute("SELECT id FROM segments")}
        db.execute("VACUUM")
    finally:
        db.close()
    for folder in root.iterdir():
        if folder.is_dir() and _is_uuid(folder.name):
            if folder.name not in segments:
                shutil.rmtree(folder, ignore_errors=True)
            else:
                _zero_spare_capacity(folder)


# hnswlib's header as Chroma (1.x) writes it: format version, then offsetLevel0, max_elements,
# cur_element_count and size_data_per_element (https://github.com/chroma-core/hnswlib, hnswalg.h).
_HNSW_HEADER = struct.Struct("<i4Q")


def _zero_spare_capacity(folder: Path) -> None:
    """Chroma writes an HNSW index's whole buffer, sized for `max_elements`, and its unused part is
    memory that was never initialized: whatever the process freed before (we have seen an erased
    customer's name there, from text the same process had read). Zero the slots past the elements in
    use, in the vectors file and in the per-element lengths file. A layout we do not recognize is left
    alone (logged), never guessed at."""
    try:
        version, offset, capacity, used, element_size = _HNSW_HEADER.unpack_from((folder / "header.bin").read_bytes())
    except (OSError, struct.error):
        return
    for name, size in (("data_level0.bin", element_size), ("length.bin", 4)):
        path = folder / name
        if version != 1 or offset != 0 or not 0 <= used <= capacity or not path.exists() \
                or path.stat().st_size != capacity * size:
            logger.warning("Chroma segment %s: unknown HNSW layout, spare capacity of %s not zeroed", folder.name, name)
            continue
        with path.open("r+b") as handle:
            handle.seek(used * size)
            handle.write(bytes((capacity - used) * size))


def _is_uuid(name: str) -> bool:
    try:
        uuid.UUID(name)
    except ValueError:
        return False
    return True
