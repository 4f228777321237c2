"""Cheap rejections are cheap: ≥ 2,000 req/s with p99 ≤ 20 ms at 8 keep-alive clients.

The load comes from raw asyncio connections (a Python HTTP library would be
the bottleneck on a 2-core machine, not the server).
"""

from __future__ import annotations

import asyncio
import time

CLIENTS = 8
SECONDS = 1.5
REJECTION = b'{"error":{"message":"request nonce is missing or invalid"}}'


async def _client(host: str, port: int, until: float, latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    request = b"GET /auth/apps HTTP/1.1\r\nHost: bench\r\nX-DFNS-APPID: x\r\n\r\n"
    try:
        while time.perf_counter() < until:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            body = await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            assert head.startswith(b"HTTP/1.1 400 ") and body == REJECTION
    finally:
        writer.close()


async def _load(url: str) -> list[float]:
    host, port = url.removeprefix("http://").split(":")
    latencies: list[float] = []
    until = time.perf_counter() + SECONDS
    await asyncio.gather(*(_client(host, int(port), until, latencies) for _ in range(CLIENTS)))
    return latencies


def test_missing_nonce_throughput_and_latency(server):
    latencies = sorted(asyncio.run(_load(server.url)))
    rate = len(latencies) / SECONDS
    p99 = latencies[int(len(latencies) * 0.99)]
    assert rate >= 2000, "%.0f req/s" % rate
    assert p99 <= 0.020, "p99 %.1f ms" % (p99 * 1000)
