#!/usr/bin/python3
"""A grpc.health.v1 client (grpcio), the way probes and load balancers ask.

  check [SERVICE ...]   one Check per service ("" is the server); prints "check <service>: <STATUS>"
                        per service, NOT_FOUND etc. as the status code's name. Exit 0.
  watch [SERVICE]       one Watch; prints "watch: <STATUS>" (flushed) for every message, then
                        "watch ended: <CODE>" when the stream ends. Exit 0.

The health messages are compiled at run time from Debian's official
/usr/share/grpc-proto/grpc/health/v1/health.proto (protogen.py); nothing is generated ahead.
"""

import argparse
import os
import sys

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import protogen  # noqa: E402
from channels import add_channel_arguments, make_channel  # noqa: E402


def status_name(pb, response):
    return pb.HealthCheckResponse.ServingStatus.Name(response.status)


def command_check(pb, channel, args):
    check = channel.unary_unary(
        "/grpc.health.v1.Health/Check",
        request_serializer=pb.HealthCheckRequest.SerializeToString,
        response_deserializer=pb.HealthCheckResponse.FromString,
    )
    for service in args.services or [""]:
        try:
            response = check(pb.HealthCheckRequest(service=service), timeout=args.timeout)
            print(f"check {service}: {status_name(pb, response)}", flush=True)
        except grpc.RpcError as error:
            print(f"check {service}: {error.code().name}", flush=True)


def command_watch(pb, channel, args):
    watch = channel.unary_stream(
        "/grpc.health.v1.Health/Watch",
        request_serializer=pb.HealthCheckRequest.SerializeToString,
        response_deserializer=pb.HealthCheckResponse.FromString,
    )
    responses = watch(pb.HealthCheckRequest(service=args.service), timeout=args.timeout)
    try:
        for response in responses:
            print(f"watch: {status_name(pb, response)}", flush=True)
        print(f"watch ended: {responses.code().name}", flush=True)
    except grpc.RpcError as error:
        print(f"watch ended: {error.code().name}", flush=True)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_channel_arguments(parser)
    parser.add_argument("--timeout", type=float, default=60.0, help="deadline per RPC in seconds")
    parser.add_argument("--grpc_protos", default=protogen.GRPC_PROTOS, help="dir holding grpc/health/v1/health.proto")
    commands = parser.add_subparsers(dest="command", required=True)
    checking = commands.add_parser("check", help="Check each SERVICE (default: the server, \"\")")
    checking.add_argument("services", nargs="*")
    watching = commands.add_parser("watch", help="Watch SERVICE (default: the server, \"\")")
    watching.add_argument("service", nargs="?", default="")
    return parser.parse_args()


def main():
    args = parse_args()
    pb = protogen.compile_proto(args.grpc_protos, "grpc/health/v1/health.proto")
    with make_channel(args) as channel:
        if args.command == "check":
            command_check(pb, channel, args)
        else:
            command_watch(pb, channel, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
