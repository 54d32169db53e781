#!/usr/bin/python3
"""gRPC interop test client (grpcio) for microservices.testing.v1.TestService.

Implements grpc/grpc's doc/interop-test-descriptions.md cases with the sizes and
assertions defined there. Exit 0 when every requested case passes, 1 otherwise.
"""

import argparse
import os
import sys

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import protogen  # noqa: E402
from channels import add_channel_arguments, make_channel  # noqa: E402
from request_pipe import RequestPipe  # noqa: E402

REQUEST_SIZES = [27182, 8, 1828, 45904]
RESPONSE_SIZES = [31415, 9, 2653, 58979]
LARGE_REQUEST_SIZE = 271828
LARGE_RESPONSE_SIZE = 314159
ECHO_INITIAL = ("x-grpc-test-echo-initial", "test_initial_metadata_value")
ECHO_TRAILING = ("x-grpc-test-echo-trailing-bin", b"\xab\xab\xab")
STATUS_MESSAGE = "test status message"
SPECIAL_STATUS_MESSAGE = "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \U0001f608\t\n"

pb = None  # the generated test.proto module, set in main()


class CaseFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise CaseFailed(message)


def zeros(size):
    return pb.Payload(body=bytes(size))


def check_payload(what, payload, size):
    body = payload.body
    check(len(body) == size, f"{what}: payload is {len(body)} bytes, expected {size}")
    check(body == bytes(size), f"{what}: payload of {size} bytes is not all zeros")


def check_rpc_error(what, error, code, details=None):
    check(isinstance(error, grpc.RpcError), f"{what}: expected status {code.name}, but the call succeeded")
    check(error.code() == code, f"{what}: expected status {code.name}, got {error.code().name}: {error.details()!r}")
    if details is not None:
        check(error.details() == details,
              f"{what}: expected status message {details!r}, got {error.details()!r}")


def expect_error(call, *args, **kwargs):
    """Run call(); return its grpc.RpcError, or None if it unexpectedly succeeded."""
    try:
        result = call(*args, **kwargs)
        if hasattr(result, "__iter__") and not isinstance(result, (bytes, str)):
            list(result)  # drain a response stream: the status comes at its end
    except grpc.RpcError as error:
        return error
    return None


def metadata_value(metadata, key):
    values = [md.value for md in metadata or () if md.key == key]
    return values[0] if values else None


class Client:
    def __init__(self, channel, timeout, compression_probe):
        self.timeout = timeout
        self.compression_probe = compression_probe

        def method(kind, name, request_type, response_type, service="TestService"):
            return getattr(channel, kind)(
                protogen.method_path(service, name),
                request_serializer=request_type.SerializeToString,
                response_deserializer=response_type.FromString,
            )

        self.empty_call = method("unary_unary", "EmptyCall", pb.Empty, pb.Empty)
        self.unary_call = method("unary_unary", "UnaryCall", pb.SimpleRequest, pb.SimpleResponse)
        self.streaming_output_call = method(
            "unary_stream", "StreamingOutputCall",
            pb.StreamingOutputCallRequest, pb.StreamingOutputCallResponse)
        self.streaming_input_call = method(
            "stream_unary", "StreamingInputCall",
            pb.StreamingInputCallRequest, pb.StreamingInputCallResponse)
        self.full_duplex_call = method(
            "stream_stream", "FullDuplexCall",
            pb.StreamingOutputCallRequest, pb.StreamingOutputCallResponse)
        # Not part of TestService / not served by anyone: both must be UNIMPLEMENTED.
        self.unimplemented_method_call = method("unary_unary", "UnimplementedCall", pb.Empty, pb.Empty)
        self.unimplemented_service_call = method(
            "unary_unary", "UnimplementedCall", pb.Empty, pb.Empty, service="UnimplementedService")

    def large_request(self, **fields):
        return pb.SimpleRequest(
            response_size=LARGE_RESPONSE_SIZE, payload=zeros(LARGE_REQUEST_SIZE), **fields)

    # ---- test cases -------------------------------------------------------------

    def empty_unary(self):
        response = self.empty_call(pb.Empty(), timeout=self.timeout)
        check(response == pb.Empty() and response.ByteSize() == 0,
              f"response is not an empty message: {response!r}")

    def large_unary(self):
        response = self.unary_call(self.large_request(), timeout=self.timeout)
        check_payload("response", response.payload, LARGE_RESPONSE_SIZE)

    def client_streaming(self):
        requests = [pb.StreamingInputCallRequest(payload=zeros(size)) for size in REQUEST_SIZES]
        response = self.streaming_input_call(iter(requests), timeout=self.timeout)
        check(response.aggregated_payload_size == 74922,
              f"aggregated_payload_size is {response.aggregated_payload_size}, expected 74922")

    def server_streaming(self):
        request = pb.StreamingOutputCallRequest(
            response_parameters=[pb.ResponseParameters(size=size) for size in RESPONSE_SIZES])
        responses = list(self.streaming_output_call(request, timeout=self.timeout))
        check(len(responses) == len(RESPONSE_SIZES),
              f"got {len(responses)} responses, expected {len(RESPONSE_SIZES)}")
        for index, (response, size) in enumerate(zip(responses, RESPONSE_SIZES)):
            check_payload(f"response #{index + 1}", response.payload, size)

    def ping_pong(self):
        pipe = RequestPipe()
        call = self.full_duplex_call(pipe, timeout=self.timeout)
        try:
            for index, (request_size, response_size) in enumerate(zip(REQUEST_SIZES, RESPONSE_SIZES)):
                pipe.add(pb.StreamingOutputCallRequest(
                    response_parameters=[pb.ResponseParameters(size=response_size)],
                    payload=zeros(request_size)))
                response = next(call, None)
                check(response is not None, f"stream ended after {index} responses, expected 4")
                check_payload(f"response #{index + 1}", response.payload, response_size)
        finally:
            pipe.close()
        extra = list(call)
        check(not extra, f"got {len(extra)} responses more than the 4 expected")

    def empty_stream(self):
        responses = list(self.full_duplex_call(iter([]), timeout=self.timeout))
        check(not responses, f"got {len(responses)} responses, expected none")

    def custom_metadata(self):
        metadata = (ECHO_INITIAL, ECHO_TRAILING)

        def check_echo(what, call):
            initial = metadata_value(call.initial_metadata(), ECHO_INITIAL[0])
            check(initial == ECHO_INITIAL[1],
                  f"{what}: initial metadata {ECHO_INITIAL[0]} is {initial!r}, expected {ECHO_INITIAL[1]!r}")
            trailing = metadata_value(call.trailing_metadata(), ECHO_TRAILING[0])
            check(trailing == ECHO_TRAILING[1],
                  f"{what}: trailing metadata {ECHO_TRAILING[0]} is {trailing!r}, expected {ECHO_TRAILING[1]!r}")

        response, call = self.unary_call.with_call(
            self.large_request(), metadata=metadata, timeout=self.timeout)
        check_payload("UnaryCall response", response.payload, LARGE_RESPONSE_SIZE)
        check_echo("UnaryCall", call)

        request = pb.StreamingOutputCallRequest(
            response_parameters=[pb.ResponseParameters(size=LARGE_RESPONSE_SIZE)],
            payload=zeros(LARGE_REQUEST_SIZE))
        call = self.full_duplex_call(iter([request]), metadata=metadata, timeout=self.timeout)
        responses = list(call)
        check(len(responses) == 1, f"FullDuplexCall: got {len(responses)} responses, expected 1")
        check_payload("FullDuplexCall response", responses[0].payload, LARGE_RESPONSE_SIZE)
        check_echo("FullDuplexCall", call)

    def status_code_and_message(self):
        status = pb.EchoStatus(code=grpc.StatusCode.UNKNOWN.value[0], message=STATUS_MESSAGE)
        error = expect_error(
            self.unary_call, pb.SimpleRequest(response_status=status), timeout=self.timeout)
        check_rpc_error("UnaryCall", error, grpc.StatusCode.UNKNOWN, STATUS_MESSAGE)

        request = pb.StreamingOutputCallRequest(response_status=status)
        error = expect_error(self.full_duplex_call, iter([request]), timeout=self.timeout)
        check_rpc_error("FullDuplexCall", error, grpc.StatusCode.UNKNOWN, STATUS_MESSAGE)

    def special_status_message(self):
        status = pb.EchoStatus(code=grpc.StatusCode.UNKNOWN.value[0], message=SPECIAL_STATUS_MESSAGE)
        error = expect_error(
            self.unary_call, pb.SimpleRequest(response_status=status), timeout=self.timeout)
        check_rpc_error("UnaryCall", error, grpc.StatusCode.UNKNOWN, SPECIAL_STATUS_MESSAGE)

    def unimplemented_method(self):
        error = expect_error(self.unimplemented_method_call, pb.Empty(), timeout=self.timeout)
        check_rpc_error("TestService/UnimplementedCall", error, grpc.StatusCode.UNIMPLEMENTED)

    def unimplemented_service(self):
        error = expect_error(self.unimplemented_service_call, pb.Empty(), timeout=self.timeout)
        check_rpc_error("UnimplementedService/UnimplementedCall", error, grpc.StatusCode.UNIMPLEMENTED)

    def timeout_on_sleeping_server(self):
        pipe = RequestPipe()  # stays open: the client "waits" until the deadline passes
        pipe.add(pb.StreamingOutputCallRequest(payload=zeros(27182)))
        try:
            error = expect_error(self.full_duplex_call, pipe, timeout=0.001)
        finally:
            pipe.close()
        check_rpc_error("FullDuplexCall with a 1ms deadline", error, grpc.StatusCode.DEADLINE_EXCEEDED)

    def cancel_after_begin(self):
        pipe = RequestPipe()  # nothing is ever sent
        future = self.streaming_input_call.future(pipe, timeout=self.timeout)
        try:
            future.cancel()
            check(future.cancelled(), "call does not report itself cancelled after cancel()")
            check(future.code() == grpc.StatusCode.CANCELLED,
                  f"expected status CANCELLED, got {future.code().name}")
        finally:
            pipe.close()

    def cancel_after_first_response(self):
        pipe = RequestPipe()
        call = self.full_duplex_call(pipe, timeout=self.timeout)
        try:
            pipe.add(pb.StreamingOutputCallRequest(
                response_parameters=[pb.ResponseParameters(size=31415)], payload=zeros(27182)))
            response = next(call, None)
            check(response is not None, "stream ended before the first response")
            check_payload("first response", response.payload, 31415)
            call.cancel()
            error = expect_error(lambda: list(call))
        finally:
            pipe.close()
        check_rpc_error("FullDuplexCall after cancel()", error, grpc.StatusCode.CANCELLED)
        check(call.code() == grpc.StatusCode.CANCELLED, f"call status is {call.code().name}, expected CANCELLED")

    def client_compressed_unary(self):
        expect_true = pb.BoolValue(value=True)
        if self.compression_probe:
            error = expect_error(
                self.unary_call, self.large_request(expect_compressed=expect_true), timeout=self.timeout)
            check(error is not None,
                  "probe: uncompressed request with expect_compressed=true succeeded, expected "
                  "INVALID_ARGUMENT (the server does not implement the CompressedRequest feature)")
            check_rpc_error("probe (uncompressed, expect_compressed=true)", error,
                            grpc.StatusCode.INVALID_ARGUMENT)
        else:
            print("  note: compression probe skipped (--no_compression_probe)")

        response = self.unary_call(self.large_request(expect_compressed=expect_true),
                                   compression=grpc.Compression.Gzip, timeout=self.timeout)
        check_payload("gzip request, expect_compressed=true", response.payload, LARGE_RESPONSE_SIZE)

        response = self.unary_call(self.large_request(expect_compressed=pb.BoolValue(value=False)),
                                   timeout=self.timeout)
        check_payload("uncompressed request, expect_compressed=false", response.payload, LARGE_RESPONSE_SIZE)

    def server_compressed_unary(self):
        # grpcio does not expose the per-message compressed flag; check the payloads.
        for compressed in (True, False):
            request = self.large_request(response_compressed=pb.BoolValue(value=compressed))
            response = self.unary_call(request, timeout=self.timeout)
            check_payload(f"response_compressed={compressed}", response.payload, LARGE_RESPONSE_SIZE)


TEST_CASES = [
    "empty_unary", "large_unary", "client_streaming", "server_streaming", "ping_pong",
    "empty_stream", "custom_metadata", "status_code_and_message", "special_status_message",
    "unimplemented_method", "unimplemented_service", "timeout_on_sleeping_server",
    "cancel_after_begin", "cancel_after_first_response", "client_compressed_unary",
    "server_compressed_unary",
]


def run_case(name, args):
    """Run one case on a fresh channel; return None on success or a failure message."""
    with make_channel(args) as channel:
        client = Client(channel, args.timeout, not args.no_compression_probe)
        try:
            getattr(client, name)()
        except CaseFailed as failure:
            return str(failure)
        except grpc.RpcError as error:
            return f"unexpected RPC failure {error.code().name}: {error.details()!r}"
    return None


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_channel_arguments(parser)
    parser.add_argument("--test_case", required=True, choices=TEST_CASES + ["all"])
    parser.add_argument("--timeout", type=float, default=30.0, help="per-call deadline in seconds")
    parser.add_argument("--no_compression_probe", action="store_true",
                        help="client_compressed_unary: skip the INVALID_ARGUMENT probe, for servers "
                             "known not to implement CompressedRequest (e.g. grpcio servers)")
    parser.add_argument("--protos", help="proto include dir (default: ../../../protos)")
    return parser.parse_args()


def main():
    global pb
    args = parse_args()
    pb = protogen.load_test_contract(args.protos)

    cases = TEST_CASES if args.test_case == "all" else [args.test_case]
    failed = []
    for name in cases:
        failure = run_case(name, args)
        if failure is None:
            print(f"PASS {name}", flush=True)
        else:
            print(f"FAIL {name}: {failure}", flush=True)
            failed.append(name)
    if len(cases) > 1:
        print(f"{len(cases) - len(failed)}/{len(cases)} passed"
              + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
