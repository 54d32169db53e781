"""The channel every Python client opens: plaintext, or TLS with an optional CA file, host override
and client certificate (mutual TLS)."""

import grpc


def add_channel_arguments(parser):
    """The options make_channel reads, the same in every client."""
    parser.add_argument("--server_host", default="localhost")
    parser.add_argument("--server_port", type=int, required=True)
    parser.add_argument("--use_tls", action="store_true", help="connect with TLS instead of h2c")
    parser.add_argument("--ca_file", help="PEM root CA to trust (default: system roots)")
    parser.add_argument("--server_host_override", help="TLS server name / :authority to claim")
    parser.add_argument("--client_cert", help="PEM client certificate for mutual TLS")
    parser.add_argument("--client_key", help="PEM private key of --client_cert")


def make_channel(args):
    target = f"{args.server_host}:{args.server_port}"
    if not args.use_tls:
        return grpc.insecure_channel(target)
    root = read(args.ca_file)
    chain, key = read(args.client_cert), read(args.client_key)
    options = []
    if args.server_host_override:
        # The certificate's name is checked against the override, and :authority carries it too.
        options.append(("grpc.ssl_target_name_override", args.server_host_override))
        options.append(("grpc.default_authority", args.server_host_override))
    credentials = grpc.ssl_channel_credentials(root_certificates=root, private_key=key, certificate_chain=chain)
    return grpc.secure_channel(target, credentials, options)


def read(path):
    if not path:
        return None
    with open(path, "rb") as f:
        return f.read()
