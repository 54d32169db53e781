"""Compile .proto files at runtime with grpc_tools and load the generated *_pb2 modules.

Only message code is generated (--python_out); calls go through grpcio's generic API,
which also lets the client call methods that are not in the contract.
"""

import importlib.util
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PROTOS = os.path.normpath(os.path.join(HERE, "..", "..", "..", "protos"))
# Debian's grpc-proto: the official grpc.health / grpc.reflection protos the clients compile.
GRPC_PROTOS = "/usr/share/grpc-proto"
TEST_PROTO = "testing/v1/test.proto"
TEST_PACKAGE = "microservices.testing.v1"


def compile_proto(include_dir, proto_file):
    """Run protoc on include_dir/proto_file and return the imported *_pb2 module."""
    from grpc_tools import protoc

    if not os.path.isfile(os.path.join(include_dir, proto_file)):
        sys.exit(f"error: {proto_file} not found under {include_dir}")
    out_dir = tempfile.mkdtemp(prefix="protogen-")
    try:
        args = ["protoc", "-I", include_dir, f"--python_out={out_dir}", proto_file]
        wkt = os.path.join(os.path.dirname(protoc.__file__), "_proto")
        if os.path.isdir(wkt):
            args[1:1] = ["-I", wkt]
        if protoc.main(args) != 0:
            sys.exit(f"error: protoc failed on {proto_file} (include dir {include_dir})")
        generated = os.path.join(out_dir, proto_file[: -len(".proto")] + "_pb2.py")
        # Load by file path under a private name: the generated package directories
        # (e.g. "testing", "grpc") must not shadow or be shadowed by installed packages.
        name = "_gen_" + proto_file[: -len(".proto")].replace("/", "_") + "_pb2"
        spec = importlib.util.spec_from_file_location(name, generated)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)


def load_test_contract(protos_dir=None):
    return compile_proto(protos_dir or DEFAULT_PROTOS, TEST_PROTO)


def method_path(service, method, package=TEST_PACKAGE):
    return f"/{package}.{service}/{method}"
