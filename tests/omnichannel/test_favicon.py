"""Browsers ask for /favicon.ico on every admin page: it answers with the icon, not a logged 404."""

from __future__ import annotations

import struct

import pytest

pytestmark = pytest.mark.django_db


def test_the_favicon_is_an_icon_anyone_may_fetch_and_cache(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response["Content-Type"] == "image/x-icon"
    body = b"".join(response.streaming_content)
    reserved, kind, count = struct.unpack("<HHH", body[:6])
    assert (reserved, kind, count) == (0, 1, 1)  # an ICO file holding one image
    assert "max-age=604800" in response["Cache-Control"] and "public" in response["Cache-Control"]
    assert client.head("/favicon.ico").status_code == 200
    assert client.post("/favicon.ico").status_code == 405
