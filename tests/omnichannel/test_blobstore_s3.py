"""The blob store on S3-compatible object storage (BLOB_BUCKET), against a real S3 server process
(moto's standalone server, tests/s3_server.py) reached over HTTP through django-storages and boto3."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from omnichannel.blobstore import (
    blob_backend,
    blob_delete,
    blob_exists,
    blob_get,
    blob_list,
    blob_put,
    blob_put_named,
)
from tests.builders import blob_put_racing

ROOT = Path(__file__).resolve().parents[2]


def test_bytes_stored_in_the_bucket_come_back_the_same(s3_blob_store, s3_server):
    data = "<html><body>Größe 42 – ok</body></html>".encode()
    stored = blob_put(data, prefix="site")
    assert blob_get(stored.key) == data
    assert s3_server.keys(s3_blob_store) == [stored.key]
    assert blob_backend() == f"s3://{s3_blob_store}"


def test_the_same_bytes_are_one_object_in_the_bucket(s3_blob_store, s3_server):
    first, second = blob_put(b"same bytes"), blob_put(b"same bytes")
    assert (first.created, second.created) == (True, False)
    assert first.key == second.key
    assert s3_server.keys(s3_blob_store) == [first.key]


def test_a_missing_key_is_file_not_found_as_on_the_filesystem(s3_blob_store):
    # Erasure reads archives that may already be gone and relies on FileNotFoundError.
    assert not blob_exists("archives/conversations/404.json")
    with pytest.raises(FileNotFoundError):
        blob_get("archives/conversations/404.json")
    blob_delete("archives/conversations/404.json")  # deleting what is not there is not an error


def test_a_named_blob_is_replaced_in_place_and_listed_under_its_prefix(s3_blob_store, s3_server):
    assert blob_put_named("reports/demand-2026-W01.csv", b"old") == "reports/demand-2026-W01.csv"
    blob_put_named("reports/demand-2026-W01.csv", b"new")
    blob_put_named("reports/demand-2026-W02.csv", b"other")
    blob_put_named("reports/nested/deeper.csv", b"not directly under reports/")
    assert blob_get("reports/demand-2026-W01.csv") == b"new"
    assert blob_list("reports") == ["reports/demand-2026-W01.csv", "reports/demand-2026-W02.csv"]
    assert blob_list("nothing-here") == []
    blob_delete("reports/demand-2026-W01.csv")
    assert s3_server.keys(s3_blob_store) == ["reports/demand-2026-W02.csv", "reports/nested/deeper.csv"]


def test_writers_racing_with_the_same_bytes_leave_one_object_and_one_key(s3_blob_store, s3_server):
    data = b"x" * 2_000_000
    keys = blob_put_racing(data, writers=8)
    assert len(set(keys)) == 1
    assert s3_server.keys(s3_blob_store) == [keys[0]]
    assert blob_get(keys[0]) == data


def test_a_prefix_keeps_every_key_inside_it(settings, s3_blob_store, s3_server):
    from omnichannel import blobstore

    settings.BLOB_PREFIX = "shop-a"
    blobstore.get_storage.cache_clear()
    stored = blob_put(b"tenant bytes", prefix="attachments")
    assert s3_server.keys(s3_blob_store) == [f"shop-a/{stored.key}"]
    assert blob_get(stored.key) == b"tenant bytes"
    assert blob_list("attachments/" + stored.key.split("/")[1] + "/" + stored.key.split("/")[2]) == [stored.key]


@pytest.mark.parametrize(("env", "message"), [
    ({"BLOB_BUCKET": "Not_A_Bucket"}, "BLOB_BUCKET='Not_A_Bucket' is not an S3 bucket name"),
    ({"BLOB_BUCKET": "blobs", "BLOB_ENDPOINT_URL": "minio:9000"}, "BLOB_ENDPOINT_URL='minio:9000' is not an http(s)"),
    ({"BLOB_BUCKET": "blobs", "BLOB_ACCESS_KEY_ID": "key-only"}, "BLOB_ACCESS_KEY_ID and BLOB_SECRET_ACCESS_KEY"),
    ({"BLOB_ENDPOINT_URL": "http://minio:9000"}, "but BLOB_BUCKET is not"),
])
def test_a_bad_object_storage_setting_stops_the_start_naming_the_variable(tmp_path, env, message):
    blob_env = {"BLOB_BUCKET", "BLOB_ENDPOINT_URL", "BLOB_ACCESS_KEY_ID", "BLOB_SECRET_ACCESS_KEY", "BLOB_PREFIX",
                "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "DATABASE_URL", "REDIS_URL"}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**{k: v for k, v in os.environ.items() if k not in blob_env},
                                 "VAR_DIR": str(tmp_path), **env})
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
