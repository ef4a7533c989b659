"""Queues per workload, with real worker processes on the real Redis broker: a long job holding the
`long` worker does not delay a customer's draft, which the `drafts` worker writes meanwhile."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conversations.models import Draft
from integrations.models import ShopifyCursor
from omnichannel.celery import app
from tests.builders import make_inbound_message
from tests.workers import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


class GatedShop:
    """A Shopify Admin API whose pages wait at a gate: a backfill against it runs until the test opens it.
    Every page is empty, so once open the backfill finishes at once."""

    def __init__(self):
        self.arrived = threading.Event()
        self.answered = 0
        self._gate = threading.Event()
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802 - http.server's naming
                shop.arrived.set()
                shop._gate.wait(120)  # answered anyway after two minutes, so no thread hangs
                resource = self.path.split("?", 1)[0].rsplit("/", 1)[-1].removesuffix(".json")
                body = json.dumps({resource: []}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                shop.answered += 1

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def open(self) -> None:
        self._gate.set()

    def close(self) -> None:
        self._gate.set()
        self._server.shutdown()
        self._server.server_close()


def test_a_draft_is_written_while_a_long_backfill_holds_the_long_worker(celery_worker_process):
    shop = GatedShop()
    try:
        # As docker-compose runs them: one worker per workload. The long one has a single slot, held below.
        env = {"SHOPIFY_MODE": "fake", "SHOPIFY_BASE_URL": shop.url, "SHOPIFY_MAX_ATTEMPTS": "1",
               "SHOPIFY_TIMEOUT_SECONDS": "150"}
        long_worker = celery_worker_process(queues=("long",), concurrency=1, **env)
        drafts_worker = celery_worker_process(queues=("drafts",), concurrency=1, **env)
        assert long_worker.wait_ready(), long_worker.log_tail()
        assert drafts_worker.wait_ready(), drafts_worker.log_tail()

        app.tasks["shopify_backfill"].apply_async(kwargs={"resource": "customers", "full": True})
        assert wait_for(shop.arrived.is_set, timeout=60), long_worker.log_tail()  # the backfill is mid-page
        message = make_inbound_message()  # after commit its generate_draft goes to the broker

        assert wait_for(lambda: Draft.objects.filter(reply_to=message).exists(), timeout=90), drafts_worker.log_tail()
        # The draft exists and the backfill still waits on its first page: it was never in the draft's way.
        assert shop.answered == 0
        assert not ShopifyCursor.objects.filter(resource="customers", last_run_status="ok").exists()

        shop.open()
        assert wait_for(lambda: ShopifyCursor.objects.filter(resource="customers", last_run_status="ok").exists(),
                        timeout=60), long_worker.log_tail()
    finally:
        shop.close()
