#!/usr/bin/python3
"""gRPC interop test server (grpcio) for microservices.testing.v1.TestService.

Behaves like grpc/grpc's official Python interop server. Prints "READY <port>" once
serving (so --port 0 picks a free port) and exits cleanly on SIGTERM/SIGINT.
"""

import argparse
import os
import signal
import sys
import threading
import time
from concurrent import futures

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import protogen  # noqa: E402

ECHO_INITIAL_KEY = "x-grpc-test-echo-initial"
ECHO_TRAILING_KEY = "x-grpc-test-echo-trailing-bin"
STATUS_BY_CODE = {code.value[0]: code for code in grpc.StatusCode}

pb = None  # the generated test.proto module, set in main()


def payload(size):
    return pb.Payload(body=bytes(size))


def echo_metadata(context):
    """Echo the test metadata keys back: the initial one as a header, the -bin one as a trailer."""
    received = {md.key: md.value for md in context.invocation_metadata()}
    if ECHO_INITIAL_KEY in received:
        context.send_initial_metadata(((ECHO_INITIAL_KEY, received[ECHO_INITIAL_KEY]),))
    if ECHO_TRAILING_KEY in received:
        context.set_trailing_metadata(((ECHO_TRAILING_KEY, received[ECHO_TRAILING_KEY]),))


def echo_status(request, context):
    """End the call with request.response_status if it asks for a non-OK status."""
    if request.HasField("response_status") and request.response_status.code != 0:
        status = request.response_status
        context.abort(STATUS_BY_CODE.get(status.code, grpc.StatusCode.UNKNOWN), status.message)


def stream_responses(parameters, context):
    """One response per ResponseParameters, honouring interval_us and compressed.

    Compression is chosen per call in grpcio, so it must be enabled before the first
    message; messages that asked for no compression then have it switched off.
    """
    for params in parameters:
        if params.interval_us > 0:
            time.sleep(params.interval_us / 1_000_000)
        if not params.compressed.value:
            context.disable_next_message_compression()
        yield pb.StreamingOutputCallResponse(payload=payload(params.size))


def wants_compression(requests):
    return any(p.compressed.value for r in requests for p in r.response_parameters)


class TestService:
    def EmptyCall(self, request, context):
        echo_metadata(context)
        return pb.Empty()

    def UnaryCall(self, request, context):
        # expect_compressed cannot be checked: grpcio does not tell a handler whether
        # the request arrived compressed. The official Python server ignores it too.
        if request.response_compressed.value:
            context.set_compression(grpc.Compression.Gzip)  # before any header goes out
        echo_metadata(context)
        echo_status(request, context)
        return pb.SimpleResponse(payload=payload(request.response_size))

    def StreamingOutputCall(self, request, context):
        if wants_compression([request]):
            context.set_compression(grpc.Compression.Gzip)
        echo_metadata(context)
        yield from stream_responses(request.response_parameters, context)
        echo_status(request, context)

    def StreamingInputCall(self, request_iterator, context):
        echo_metadata(context)
        total = sum(len(request.payload.body) for request in request_iterator)
        return pb.StreamingInputCallResponse(aggregated_payload_size=total)

    def FullDuplexCall(self, request_iterator, context):
        started = False
        for request in request_iterator:
            if not started:
                # Compression can only be picked before the headers are sent, i.e.
                # from the first request; later requests can only opt out per message.
                if wants_compression([request]):
                    context.set_compression(grpc.Compression.Gzip)
                echo_metadata(context)
                started = True
            echo_status(request, context)
            yield from stream_responses(request.response_parameters, context)
        if not started:
            echo_metadata(context)

    def HalfDuplexCall(self, request_iterator, context):
        requests = list(request_iterator)  # buffer everything until the client half-closes
        if wants_compression(requests):
            context.set_compression(grpc.Compression.Gzip)
        echo_metadata(context)
        for request in requests:
            echo_status(request, context)
            yield from stream_responses(request.response_parameters, context)


def generic_handler(service):
    def handler(kind, name, request_type, response_type):
        make = {
            "unary_unary": grpc.unary_unary_rpc_method_handler,
            "unary_stream": grpc.unary_stream_rpc_method_handler,
            "stream_unary": grpc.stream_unary_rpc_method_handler,
            "stream_stream": grpc.stream_stream_rpc_method_handler,
        }[kind]
        return make(
            getattr(service, name),
            request_deserializer=request_type.FromString,
            response_serializer=response_type.SerializeToString,
        )

    handlers = {
        "EmptyCall": handler("unary_unary", "EmptyCall", pb.Empty, pb.Empty),
        "UnaryCall": handler("unary_unary", "UnaryCall", pb.SimpleRequest, pb.SimpleResponse),
        "StreamingOutputCall": handler(
            "unary_stream", "StreamingOutputCall",
            pb.StreamingOutputCallRequest, pb.StreamingOutputCallResponse),
        "StreamingInputCall": handler(
            "stream_unary", "StreamingInputCall",
            pb.StreamingInputCallRequest, pb.StreamingInputCallResponse),
        "FullDuplexCall": handler(
            "stream_stream", "FullDuplexCall",
            pb.StreamingOutputCallRequest, pb.StreamingOutputCallResponse),
        "HalfDuplexCall": handler(
            "stream_stream", "HalfDuplexCall",
            pb.StreamingOutputCallRequest, pb.StreamingOutputCallResponse),
    }
    # UnimplementedService is deliberately not registered: its calls get UNIMPLEMENTED.
    return grpc.method_handlers_generic_handler(f"{protogen.TEST_PACKAGE}.TestService", handlers)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="port to listen on (0: any free port)")
    parser.add_argument("--use_tls", action="store_true", help="serve TLS instead of h2c")
    parser.add_argument("--cert_file", help="PEM certificate chain (with --use_tls)")
    parser.add_argument("--key_file", help="PEM private key (with --use_tls)")
    parser.add_argument("--protos", help="proto include dir (default: ../../../protos)")
    args = parser.parse_args()
    if args.use_tls and not (args.cert_file and args.key_file):
        parser.error("--use_tls needs --cert_file and --key_file")
    return args


def main():
    global pb
    args = parse_args()
    pb = protogen.load_test_contract(args.protos)

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32))
    server.add_generic_rpc_handlers((generic_handler(TestService()),))
    address = f"[::]:{args.port}"
    if args.use_tls:
        with open(args.key_file, "rb") as key, open(args.cert_file, "rb") as cert:
            credentials = grpc.ssl_server_credentials(((key.read(), cert.read()),))
        port = server.add_secure_port(address, credentials)
    else:
        port = server.add_insecure_port(address)
    if port == 0:
        sys.exit(f"error: cannot listen on {address}")

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    server.start()
    print(f"READY {port}", flush=True)
    while not stop.wait(0.5):  # a timed wait keeps the main thread responsive to signals
        pass
    server.stop(grace=2).wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
