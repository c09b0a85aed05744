"""What a throttle check costs per call: in-process, and shared through Redis (one Lua
script a call, one round trip). Every sign-in, driver start and charger connection pays
one or two such calls.

Run: ``python bench/throttles.py [--redis redis://127.0.0.1:6379/1] [--calls 5000]``.
"""

from __future__ import annotations

import argparse
import time
import uuid

from voltspot.cluster.node import RedisNode, connect
from voltspot.cluster.throttles import failure_throttle, rate_limit


def _per_call_us(call, calls: int) -> float:
    started = time.perf_counter()
    for n in range(calls):
        call(n)
    return (time.perf_counter() - started) / calls * 1e6


def _figures(node: RedisNode | None, calls: int) -> dict[str, float]:
    failures = failure_throttle(node, "failures", free=5)
    limit = rate_limit(node, "starts", 6, 60)
    return {
        "FailureThrottle.retry_after": _per_call_us(
            lambda n: failures.retry_after(f"key-{n % 100}", time.monotonic()), calls),
        "FailureThrottle.failed": _per_call_us(
            lambda n: failures.failed(f"key-{n % 100}", time.monotonic()), calls),
        "RateLimit.hit": _per_call_us(
            lambda n: limit.hit(f"key-{n % 100}", time.monotonic()), calls),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/1")
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()
    prefix = f"bench-throttles-{uuid.uuid4().hex[:8]}:"
    client = connect(args.redis)
    node = RedisNode(client, "bench", prefix)
    try:
        for where, on in (("in-process", None), ("Redis", node)):
            for name, micros in _figures(on, args.calls).items():
                print(f"{where:>10}  {name:<28} {micros:8.1f} µs/call")
    finally:
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
        client.close()


if __name__ == "__main__":
    main()
