using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace Microservices.TestSupport;

/// <summary>
/// Hand-made HTTP/2 gRPC requests, so tests can send what no well-behaved client would:
/// truncated frames, lying length prefixes, bad headers. Status codes stay numbers here, so this
/// project needs no gRPC package; compare them with <c>(int)StatusCode.X</c>.
/// </summary>
public static class RawGrpc
{
    public static HttpClient CreateClient(bool multipleConnections = true) =>
        new(new SocketsHttpHandler { EnableMultipleHttp2Connections = multipleConnections })
        {
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = TimeSpan.FromSeconds(30),
        };

    /// <summary>A length-prefixed message: compressed flag, 4-byte big-endian length (or a lie), bytes.</summary>
    public static byte[] Frame(byte[] message, bool compressedFlag = false, uint? declaredLength = null)
    {
        var frame = new byte[5 + message.Length];
        frame[0] = compressedFlag ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), declaredLength ?? (uint)message.Length);
        message.CopyTo(frame, 5);
        return frame;
    }

    /// <summary>A POST of <paramref name="body"/> as it stands (frame it with <see cref="Frame"/>), with any extra request headers.</summary>
    public static HttpRequestMessage Request(string address, string path, byte[] body, string contentType = "application/grpc",
        params (string Name, string Value)[] headers)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        var request = new HttpRequestMessage(HttpMethod.Post, address + path)
        {
            Content = content,
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.TryAddWithoutValidation("te", "trailers");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    /// <summary>One request on a client of its own, for tests that send a few and need no shared connection.</summary>
    public static async Task<RawResponse> CallAsync(string address, string path, byte[] body, string contentType = "application/grpc",
        params (string Name, string Value)[] headers)
    {
        using var client = CreateClient();
        using var request = Request(address, path, body, contentType, headers);
        return await SendAsync(client, request);
    }

    /// <summary>Sends and reads the whole response; returns it with the gRPC status from headers (trailers-only) or trailers.</summary>
    public static async Task<RawResponse> SendAsync(HttpClient client, HttpRequestMessage request)
    {
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsByteArrayAsync();
        var trailersOnly = response.Headers.Contains("grpc-status");
        var fields = trailersOnly ? response.Headers : response.TrailingHeaders;
        var status = fields.TryGetValues("grpc-status", out var s) ? int.Parse(s.First(), CultureInfo.InvariantCulture) : (int?)null;
        var message = fields.TryGetValues("grpc-message", out var m) ? Uri.UnescapeDataString(m.First()) : "";
        return new RawResponse(
            response.StatusCode,
            status,
            message,
            trailersOnly,
            body,
            response.Headers.ToDictionary(h => h.Key, h => string.Join(",", h.Value)),
            response.TrailingHeaders.ToDictionary(h => h.Key, h => string.Join(",", h.Value)));
    }

    public sealed record RawResponse(
        HttpStatusCode HttpStatus,
        int? GrpcStatus,
        string GrpcMessage,
        bool TrailersOnly,
        byte[] Body,
        IReadOnlyDictionary<string, string> Headers,
        IReadOnlyDictionary<string, string> Trailers);
}
