"""A real S3-compatible server for the suite: moto's standalone server (`moto_server`), in its own
process on a free loopback port, started once per test session. Each test gets a bucket of its own.

The blob store talks to it over HTTP through django-storages and boto3, exactly as it talks to MinIO
or AWS S3 in production: nothing of ours is replaced.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key"
REGION = "us-east-1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class S3Server:
    def __init__(self, log_path: Path):
        self.port = _free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        command = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or "moto_server"
        self._log = open(log_path, "ab")  # noqa: SIM115 - open for the server's whole life
        self.process = subprocess.Popen([command, "-H", "127.0.0.1", "-p", str(self.port)],
                                        stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{self.endpoint_url}/moto-api/", timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"moto_server did not start: see {log_path}") from None
                time.sleep(0.1)

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name=REGION,
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)

    def new_bucket(self) -> str:
        name = f"blobs-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def env(self, bucket: str) -> dict[str, str]:
        """The environment a web or worker process needs to use this bucket (as in docker-compose.yml)."""
        return {"BLOB_BUCKET": bucket, "BLOB_ENDPOINT_URL": self.endpoint_url, "BLOB_REGION": REGION,
                "BLOB_ACCESS_KEY_ID": ACCESS_KEY, "BLOB_SECRET_ACCESS_KEY": SECRET_KEY}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()
