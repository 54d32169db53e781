using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;

namespace Microservices.Blob.Tests.Support;

/// <summary>
/// gRPC requests as plain HTTP/2 (h2c with prior knowledge), for inputs the generated client
/// never sends: any path, content type, frame header or message bytes.
/// </summary>
internal sealed class RawGrpc(int port) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler());

    public sealed record Response(HttpStatusCode HttpStatus, string? ContentType, int? GrpcStatus, string? GrpcMessage);

    /// <summary>One length-prefixed message: flag 0 (not compressed), then its length big-endian.</summary>
    public static byte[] Frame(ReadOnlySpan<byte> message, int? declaredLength = null)
    {
        var frame = new byte[5 + message.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), declaredLength ?? message.Length);
        message.CopyTo(frame.AsSpan(5));
        return frame;
    }

    public async Task<Response> PostAsync(string path, byte[] body, string contentType = "application/grpc", string owner = "alice")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port}{path}")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        request.Headers.TE.Add(new TransferCodingWithQualityHeaderValue("trailers"));
        request.Headers.Add("x-owner-id", owner);
        using var response = await _http.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();

        // A status comes in the trailers, or in the headers of a trailers-only response.
        string? Header(string name) =>
            response.TrailingHeaders.TryGetValues(name, out var values) || response.Headers.TryGetValues(name, out values) ? values.First() : null;
        var status = Header("grpc-status");
        var message = Header("grpc-message");
        return new Response(
            response.StatusCode,
            response.Content.Headers.ContentType?.MediaType,
            status is null ? null : int.Parse(status, System.Globalization.CultureInfo.InvariantCulture),
            message is null ? null : Uri.UnescapeDataString(message));
    }

    public void Dispose() => _http.Dispose();
}
