#!/usr/bin/python3
"""A small grpcurl-like client that learns everything it knows from server reflection.

  list [SERVICE]             services (or a service's methods), one per line
  describe SYMBOL            the definition of a service, method, message or enum
  call SERVICE/METHOD [JSON] a unary call; JSON request ("-" reads stdin), JSON response

Descriptors come only from the server (file_containing_symbol, then file_by_filename for
missing dependencies); no generated code of the server's contracts is used.
"""

import argparse
import os
import sys

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import protogen  # noqa: E402
from channels import add_channel_arguments, make_channel  # noqa: E402
from request_pipe import RequestPipe  # noqa: E402

STATUS_NAMES = {code.value[0]: code.name for code in grpc.StatusCode}


class ReflectionError(Exception):
    pass


class Reflection:
    """One ServerReflectionInfo stream; asks one question at a time."""

    def __init__(self, channel, version, timeout, protos_dir):
        self.pb = protogen.compile_proto(protos_dir, f"grpc/reflection/{version}/reflection.proto")
        method = channel.stream_stream(
            f"/grpc.reflection.{version}.ServerReflection/ServerReflectionInfo",
            request_serializer=self.pb.ServerReflectionRequest.SerializeToString,
            response_deserializer=self.pb.ServerReflectionResponse.FromString,
        )
        self._requests = RequestPipe()
        self._responses = method(self._requests, timeout=timeout)
        self.files = {}  # file name -> FileDescriptorProto, as returned by the server

    def close(self):
        self._requests.close()
        self._responses.cancel()

    def ask(self, expected, **question):
        (field, value), = question.items()
        self._requests.add(self.pb.ServerReflectionRequest(**question))
        response = next(self._responses, None)
        if response is None:
            raise ReflectionError(f"reflection stream ended without answering {field}={value!r}")
        kind = response.WhichOneof("message_response")
        if kind == "error_response":
            error = response.error_response
            code = STATUS_NAMES.get(error.error_code, str(error.error_code))
            raise ReflectionError(f"server reflection error for {field}={value!r}: {code}: {error.error_message}")
        if kind != expected:
            raise ReflectionError(f"asked {field}={value!r}, expected {expected}, got {kind}")
        return getattr(response, kind)

    def list_services(self):
        answer = self.ask("list_services_response", list_services="")
        return [service.name for service in answer.service]

    def _fetch(self, **question):
        answer = self.ask("file_descriptor_response", **question)
        for serialized in answer.file_descriptor_proto:
            file = descriptor_pb2.FileDescriptorProto.FromString(serialized)
            self.files.setdefault(file.name, file)
        if not answer.file_descriptor_proto:
            raise ReflectionError(f"server returned no file for {question}")

    def pool_for_symbol(self, symbol):
        """Fetch the file defining symbol plus all its dependencies; return a DescriptorPool."""
        self._fetch(file_containing_symbol=symbol)
        while True:
            missing = sorted({dep for file in self.files.values() for dep in file.dependency
                              if dep not in self.files})
            if not missing:
                break
            for name in missing:
                self._fetch(file_by_filename=name)
                if name not in self.files:
                    raise ReflectionError(f"asked for file {name!r}, the server returned other files")
        return self._build_pool()

    def _build_pool(self):
        pool = descriptor_pool.DescriptorPool()
        added = set()

        def add(name, chain=()):
            if name in added:
                return
            if name in chain:
                raise ReflectionError(f"import cycle: {' -> '.join(chain + (name,))}")
            for dep in self.files[name].dependency:
                add(dep, chain + (name,))
            pool.Add(self.files[name])
            added.add(name)

        for name in self.files:
            add(name)
        return pool


def find_symbol(pool, symbol):
    for kind, find in (("service", pool.FindServiceByName), ("message", pool.FindMessageTypeByName),
                       ("enum", pool.FindEnumTypeByName), ("method", pool.FindMethodByName)):
        try:
            return kind, find(symbol)
        except KeyError:
            pass
    raise ReflectionError(f"symbol {symbol!r} not found in the files the server returned")


# ---- printing definitions in .proto syntax ------------------------------------------

def type_name(field):
    if field.message_type is not None:
        return "." + field.message_type.full_name
    if field.enum_type is not None:
        return "." + field.enum_type.full_name
    return descriptor_pb2.FieldDescriptorProto.Type.Name(field.type)[len("TYPE_"):].lower()


def format_field(field):
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        key, value = field.message_type.fields_by_name["key"], field.message_type.fields_by_name["value"]
        return f"map<{type_name(key)}, {type_name(value)}> {field.name} = {field.number};"
    label = ""
    if field.label == field.LABEL_REPEATED:
        label = "repeated "
    elif field.label == field.LABEL_REQUIRED:
        label = "required "
    elif field.file.syntax == "proto2":
        label = "optional "
    elif field.containing_oneof is not None and field.containing_oneof.name == "_" + field.name:
        label = "optional "  # a proto3 optional field (synthetic oneof)
    return f"{label}{type_name(field)} {field.name} = {field.number};"


def format_method(method):
    def side(streaming, message):
        return f"( {'stream ' if streaming else ''}.{message.full_name} )"

    return (f"rpc {method.name} {side(method.client_streaming, method.input_type)} "
            f"returns {side(method.server_streaming, method.output_type)};")


def format_enum(enum, indent=""):
    lines = [f"{indent}enum {enum.name} {{"]
    lines += [f"{indent}  {value.name} = {value.number};" for value in enum.values]
    return lines + [f"{indent}}}"]


def format_message(message, indent=""):
    lines = [f"{indent}message {message.name} {{"]
    for nested in message.nested_types:
        if not nested.GetOptions().map_entry:
            lines += format_message(nested, indent + "  ")
    for enum in message.enum_types:
        lines += format_enum(enum, indent + "  ")
    printed_oneofs = set()
    for field in message.fields:
        oneof = field.containing_oneof
        if oneof is not None and oneof.name != "_" + field.name:
            if oneof.name not in printed_oneofs:
                printed_oneofs.add(oneof.name)
                lines.append(f"{indent}  oneof {oneof.name} {{")
                lines += [f"{indent}    {format_field(f)}" for f in oneof.fields]
                lines.append(f"{indent}  }}")
            continue
        lines.append(f"{indent}  {format_field(field)}")
    return lines + [f"{indent}}}"]


def describe(kind, descriptor):
    if kind == "service":
        body = [f"service {descriptor.name} {{"]
        body += [f"  {format_method(method)}" for method in descriptor.methods] + ["}"]
    elif kind == "method":
        body = [format_method(descriptor)]
    elif kind == "message":
        body = format_message(descriptor)
    else:
        body = format_enum(descriptor)
    article = "an" if kind[0] in "aeiou" else "a"
    return "\n".join([f"{descriptor.full_name} is {article} {kind}:"] + body)


# ---- commands ---------------------------------------------------------------------

def message_class(pool, descriptor):
    if hasattr(message_factory, "GetMessageClass"):  # protobuf >= 4.22
        return message_factory.GetMessageClass(descriptor)
    return message_factory.MessageFactory(pool).GetPrototype(descriptor)


def split_method(target):
    service, sep, method = target.rpartition("/")
    if not sep:
        service, sep, method = target.rpartition(".")
    if not service or not method:
        raise ReflectionError(f"expected SERVICE/METHOD, got {target!r}")
    return service.lstrip("."), method


def command_list(reflection, args):
    if args.service:
        pool = reflection.pool_for_symbol(args.service)
        kind, service = find_symbol(pool, args.service)
        if kind != "service":
            raise ReflectionError(f"{args.service} is a {kind}, not a service")
        for method in service.methods:
            print(method.full_name)
    else:
        for name in reflection.list_services():
            print(name)


def command_describe(reflection, args):
    symbol = args.symbol.lstrip(".")
    pool = reflection.pool_for_symbol(symbol)
    print(describe(*find_symbol(pool, symbol)))


def command_call(reflection, args, channel):
    service_name, method_name = split_method(args.method)
    pool = reflection.pool_for_symbol(service_name)
    kind, service = find_symbol(pool, service_name)
    if kind != "service":
        raise ReflectionError(f"{service_name} is a {kind}, not a service")
    method = service.methods_by_name.get(method_name)
    if method is None:
        names = ", ".join(m.name for m in service.methods)
        raise ReflectionError(f"service {service_name} has no method {method_name} (it has: {names})")
    if method.client_streaming or method.server_streaming:
        raise ReflectionError(f"{method.full_name} is a streaming method; only unary calls are supported")

    request_class = message_class(pool, method.input_type)
    response_class = message_class(pool, method.output_type)
    text = sys.stdin.read() if args.json == "-" else args.json
    request = request_class()
    try:
        json_format.Parse(text, request, descriptor_pool=pool)
    except json_format.ParseError as error:
        raise ReflectionError(f"request JSON does not fit {method.input_type.full_name}: {error}")

    call = channel.unary_unary(
        f"/{service.full_name}/{method.name}",
        request_serializer=request_class.SerializeToString,
        response_deserializer=response_class.FromString,
    )
    try:
        metadata = [tuple(h.split(":", 1)) for h in args.header]
        response = call(request, timeout=args.timeout, metadata=[(k.strip().lower(), v.strip()) for k, v in metadata])
    except grpc.RpcError as error:
        raise ReflectionError(f"{service.full_name}/{method.name} failed: {error.code().name}: {error.details()}")
    print(json_format.MessageToJson(response, descriptor_pool=pool))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_channel_arguments(parser)
    parser.add_argument("--version", choices=["v1", "v1alpha"], default="v1", help="reflection API version")
    parser.add_argument("--timeout", type=float, default=10.0, help="deadline per RPC in seconds")
    parser.add_argument("--grpc_protos", default=protogen.GRPC_PROTOS, help="dir holding grpc/reflection/*/reflection.proto")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="list services, or the methods of SERVICE")
    listing.add_argument("service", nargs="?")
    describing = commands.add_parser("describe", help="print a service/method/message/enum definition")
    describing.add_argument("symbol")
    calling = commands.add_parser("call", help="make a unary call with a JSON request")
    calling.add_argument("method", help="SERVICE/METHOD, e.g. pkg.Service/Method")
    calling.add_argument("json", nargs="?", default="{}", help='request as JSON (default "{}", "-" for stdin)')
    calling.add_argument("-H", "--header", action="append", default=[], help="request metadata 'key: value' (repeatable), as grpcurl -H")
    return parser.parse_args()


def main():
    args = parse_args()
    with make_channel(args) as channel:
        reflection = Reflection(channel, args.version, args.timeout, args.grpc_protos)
        try:
            if args.command == "list":
                command_list(reflection, args)
            elif args.command == "describe":
                command_describe(reflection, args)
            else:
                command_call(reflection, args, channel)
        except ReflectionError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        except grpc.RpcError as error:
            print(f"error: reflection ({args.version}) failed: {error.code().name}: {error.details()}",
                  file=sys.stderr)
            return 1
        finally:
            reflection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
