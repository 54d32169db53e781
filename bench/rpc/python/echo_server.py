"""grpcio echo server for bench/rpc (Debian's python3-grpcio; run with /usr/bin/python3).

    echo_server.py --port N

Uses grpc.aio: one event loop, no thread-pool hand-off per call, which is grpcio's fastest
server here. Prints READY on stdout once listening on 127.0.0.1:N. The generated modules
(echo_pb2, echo_pb2_grpc) are found through PYTHONPATH, set by `run`.
"""
import argparse
import asyncio

import grpc

from bench.v1 import echo_pb2, echo_pb2_grpc


class Echo(echo_pb2_grpc.EchoServiceServicer):
    async def Echo(self, request, context):
        return echo_pb2.EchoResponse(payload=request.payload)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()

    server = grpc.aio.server()
    echo_pb2_grpc.add_EchoServiceServicer_to_server(Echo(), server)
    server.add_insecure_port(f"127.0.0.1:{args.port}")
    await server.start()
    print("READY", flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(main())
