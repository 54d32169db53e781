"""The channel every Python client opens: plaintext, or TLS with an optional CA file and host override."""

import grpc


def add_channel_arguments(parser):
    """The options make_channel reads, the same in every client."""
    parser.add_argument("--server_host", default="localhost")
    parser.add_argument("--server_port", type=int, required=True)
    parser.add_argument("--use_tls", action="store_true", help="connect with TLS instead of h2c")
    parser.add_argument("--ca_file", help="PEM root CA to trust (default: system roots)")
    parser.add_argument("--server_host_override", help="TLS server name / :authority to claim")


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
