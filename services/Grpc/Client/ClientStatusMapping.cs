using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Microservices.Grpc.Protocol;

namespace Microservices.Grpc.Client;

/// <summary>How transport outcomes become gRPC statuses on the client (PROTOCOL-HTTP2.md and http-grpc-status-mapping.md).</summary>
internal static class ClientStatusMapping
{
    public static Status FromHttpStatus(HttpStatusCode status)
    {
        var code = (int)status switch
        {
            400 => StatusCode.Internal,
            401 => StatusCode.Unauthenticated,
            403 => StatusCode.PermissionDenied,
            404 => StatusCode.Unimplemented,
            429 or 502 or 503 or 504 => StatusCode.Unavailable,
            _ => StatusCode.Unknown,
        };
        return new Status(code, $"Bad gRPC response: HTTP status {(int)status}.");
    }

    /// <summary>The status in these headers (trailers, or the headers of a trailers-only response); null if none.</summary>
    public static Status? FromHeaders(HttpHeaders headers)
    {
        if (!headers.NonValidated.TryGetValues(GrpcHeaders.Status, out var values))
        {
            return null;
        }

        var text = values.ToString();
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var code))
        {
            return new Status(StatusCode.Unknown, $"Unparseable grpc-status '{text}'.");
        }

        var message = headers.NonValidated.TryGetValues(GrpcHeaders.Message, out var messageValues)
            ? StatusMessageEncoding.Decode(messageValues.ToString())
            : "";
        return new Status((StatusCode)code, message);
    }

    /// <summary>HTTP/2 RST_STREAM and GOAWAY error codes (RFC 9113 §7) as gRPC statuses.</summary>
    public static Status FromHttp2Error(long errorCode, string message) => errorCode switch
    {
        0x0 => new Status(StatusCode.Internal, message),
        0x7 => new Status(StatusCode.Unavailable, message),
        0x8 => new Status(StatusCode.Cancelled, message),
        0xb => new Status(StatusCode.ResourceExhausted, message),
        0xc => new Status(StatusCode.PermissionDenied, message),
        _ => new Status(StatusCode.Internal, message),
    };
}
