import pytest

from omnichannel.blobstore import blob_exists, blob_get, blob_put
from tests.builders import blob_put_racing


def test_round_trip_returns_the_same_bytes():
    data = "<html><body>Größe 42 – ok</body></html>".encode()
    stored = blob_put(data)
    assert blob_get(stored.key) == data
    assert stored.size == len(data)
    assert stored.key.endswith(stored.sha256)


def test_the_same_bytes_are_stored_once(settings):
    first = blob_put(b"same bytes")
    second = blob_put(b"same bytes")
    assert first.created is True
    assert second.created is False
    assert first.key == second.key
    files = [p for p in settings.BLOB_ROOT.rglob("*") if p.is_file()]
    assert len(files) == 1


def test_different_bytes_get_different_keys():
    assert blob_put(b"a").key != blob_put(b"b").key
    assert not blob_exists("sha256/00/00/missing")


def test_only_bytes_are_accepted():
    with pytest.raises(TypeError):
        blob_put("text is not bytes")


def test_writers_racing_with_the_same_bytes_leave_one_copy_and_one_key(settings):
    data = b"x" * 2_000_000  # big enough that writes overlap
    keys = blob_put_racing(data, writers=8)
    assert len(set(keys)) == 1
    assert [p.name for p in settings.BLOB_ROOT.rglob("*") if p.is_file()] == [keys[0].rsplit("/", 1)[1]]
