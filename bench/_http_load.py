"""A light HTTP/1.1 load generator for the webhook benchmark, run in its own process.

The requests are built (and signed) before the clock starts, so the sender spends its CPU on
sockets, not on HMAC or a client library: on a 2-core machine a heavy client steals the cores
the server is being measured on. Every request says `Connection: close` (as gunicorn's sync workers
would anyway), so each request is one connection: connect, write, read to EOF.

Closed loop: `concurrency` senders, each sending its next request when the last one answered.
Open loop: request i is due at start + i / rate whatever happened before, and its latency is
counted from when it was due, so a server that falls behind shows the queueing it causes
(no coordinated omission).
"""

from __future__ import annotations

import asyncio
import time


def _status(head: bytes) -> int:
    try:
        return int(head.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


REQUEST_TIMEOUT = 10.0  # seconds; a request that takes longer counts as status 0, and the run goes on


async def _exchange(host: str, port: int, request: bytes) -> int:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        response = await reader.read()  # the server closes after the response (Connection: close)
    finally:
        writer.close()
    return _status(response[:32])


async def _one(host: str, port: int, request: bytes) -> int:
    try:
        return await asyncio.wait_for(_exchange(host, port, request), REQUEST_TIMEOUT)
    except (TimeoutError, OSError):
        return 0  # no answer (refused, reset, timed out): shown as status 0 in the tables


async def _closed(host: str, port: int, requests: list[bytes], concurrency: int) -> tuple[list[float], dict]:
    latencies, statuses = [], {}
    pending = iter(requests)

    async def sender() -> None:
        for request in pending:
            began = time.perf_counter()
            status = await _one(host, port, request)
            latencies.append((time.perf_counter() - began) * 1000)
            statuses[status] = statuses.get(status, 0) + 1

    await asyncio.gather(*(sender() for _ in range(concurrency)))
    return latencies, statuses


async def _open(host: str, port: int, requests: list[bytes], rate: float) -> tuple[list[float], dict]:
    latencies, statuses = [], {}
    start = time.perf_counter()

    async def due(n: int, request: bytes) -> None:
        due_at = start + n / rate
        await asyncio.sleep(max(0.0, due_at - time.perf_counter()))
        status = await _one(host, port, request)
        latencies.append((time.perf_counter() - due_at) * 1000)
        statuses[status] = statuses.get(status, 0) + 1

    await asyncio.gather(*(due(n, r) for n, r in enumerate(requests)))
    return latencies, statuses


def load(host: str, port: int, requests: list[bytes], concurrency: int, rate: float | None, out) -> None:
    """Process entry point: put {"seconds", "cpu_seconds", "latencies", "statuses"} on `out`."""
    began, cpu = time.perf_counter(), time.process_time()
    if rate:
        latencies, statuses = asyncio.run(_open(host, port, requests, rate))
    else:
        latencies, statuses = asyncio.run(_closed(host, port, requests, concurrency))
    out.put({"seconds": time.perf_counter() - began, "cpu_seconds": time.process_time() - cpu,
             "latencies": latencies, "statuses": statuses})


def http_request(method: str, path: str, host: str, body: bytes = b"", headers: dict | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: close", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
