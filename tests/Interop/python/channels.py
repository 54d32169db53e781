"""The channel both Python clients open: plaintext, or TLS with an optional CA file and host override."""

import grpc


def make_channel(args):
    target = f"{args.server_host}:{args.server_port}"
    if not args.use_tls:
        return grpc.insecure_channel(target)
    root = None
    if args.ca_file:
        with open(args.ca_file, "rb") as f:
            root = f.read()
    options = []
    if args.server_host_override:
        # The certificate's name is checked against the override, and :authority carries it too.
        options.append(("grpc.ssl_target_name_override", args.server_host_override))
        options.append(("grpc.default_authority", args.server_host_override))
    return grpc.secure_channel(target, grpc.ssl_channel_credentials(root_certificates=root), options)
