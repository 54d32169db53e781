"""grpcio echo client for bench/rpc (Debian's python3-grpcio; run with /usr/bin/python3).

Load (the client CLI contract shared with the C++ and C# clients):

    echo_client.py --target 127.0.0.1:PORT --connections 4 --streams 16 --duration 10 \
                   --warmup 2 --payload 64

runs closed-loop unary Echo calls (connections x streams outstanding) and prints one line:
    rps=<float> p50_ms=<float> p99_ms=<float> errors=<int>

Check (used by `run` before loading any server, so a broken server can't post a number):

    echo_client.py --target 127.0.0.1:PORT --check --payload 64

makes a few calls with distinct payloads and exits non-zero unless every one is echoed
exactly with status OK.
"""
import argparse
import asyncio
import sys
import time

import grpc

from bench.v1 import echo_pb2, echo_pb2_grpc


def make_payload(size: int, seed: int = 0) -> bytes:
    return bytes((97 + (i + seed) % 26) for i in range(size))


def check(target: str, payload_size: int) -> int:
    with grpc.insecure_channel(target) as channel:
        stub = echo_pb2_grpc.EchoServiceStub(channel)
        # Distinct payloads (and an empty one) so a server that replays a canned answer fails.
        for seed, size in ((0, payload_size), (7, payload_size), (3, 1000), (0, 0)):
            sent = make_payload(size, seed)
            try:
                reply = stub.Echo(echo_pb2.EchoRequest(payload=sent), timeout=10)
            except grpc.RpcError as e:
                print(f"check failed: {target}: {e.code().name} {e.details()}", file=sys.stderr)
                return 1
            if reply.payload != sent:
                print(f"check failed: {target}: echoed {len(reply.payload)} bytes, "
                      f"sent {size}", file=sys.stderr)
                return 1
    print(f"check ok: {target} echoes correctly")
    return 0


async def load(args) -> None:
    request = echo_pb2.EchoRequest(payload=make_payload(args.payload))
    t0 = time.monotonic()
    measure_start = t0 + args.warmup
    measure_end = measure_start + args.duration
    latencies: list[float] = []
    errors = 0

    async def stream(stub) -> None:
        nonlocal errors
        while True:
            start = time.monotonic()
            try:
                reply = await stub.Echo(request)
                ok = reply.payload == request.payload
            except grpc.RpcError:
                ok = False
            now = time.monotonic()
            if not ok:
                errors += 1
            elif measure_start <= now < measure_end:
                latencies.append(now - start)
            if now >= measure_end:
                return

    channels = [
        # A local subchannel pool plus a unique argument: one TCP connection per channel.
        grpc.aio.insecure_channel(args.target, options=[
            ("grpc.use_local_subchannel_pool", 1), ("bench.connection_index", i)])
        for i in range(args.connections)
    ]
    stubs = [echo_pb2_grpc.EchoServiceStub(c) for c in channels]
    await asyncio.gather(*(stream(s) for s in stubs for _ in range(args.streams)))
    for c in channels:
        await c.close()

    latencies.sort()

    def pct(p: float) -> float:
        return latencies[int(p * (len(latencies) - 1) + 0.5)] * 1000 if latencies else 0.0

    print(f"rps={len(latencies) / args.duration:.1f} p50_ms={pct(0.50):.3f} "
          f"p99_ms={pct(0.99):.3f} errors={errors}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", required=True)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--streams", type=int, default=16)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--payload", type=int, default=64)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    if args.check:
        return check(args.target, args.payload)
    asyncio.run(load(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
