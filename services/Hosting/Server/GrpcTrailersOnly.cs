using Microsoft.AspNetCore.Http;

namespace Microservices.Hosting.Server;

/// <summary>
/// A gRPC status written by middleware, before any service runs: a trailers-only response (HTTP 200,
/// grpc-status, grpc-message), so clients report the reason instead of "Bad gRPC response".
/// </summary>
internal static class GrpcTrailersOnly
{
    public static void Write(HttpResponse response, Grpc.Core.StatusCode status, string message)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/grpc";
        response.Headers["grpc-status"] = ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = Uri.EscapeDataString(message);
    }
}
