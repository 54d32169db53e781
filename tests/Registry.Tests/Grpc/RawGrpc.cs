using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using Grpc.Core;

namespace Microservices.Registry.Tests.Grpc;

/// <summary>
/// A gRPC call as bytes on the wire (HTTP/2 with prior knowledge over cleartext), for requests
/// no well-behaved client sends: undecodable messages, methods the contract doesn't have.
/// </summary>
internal static class RawGrpc
{
    /// <summary>POSTs one length-prefixed message to <paramref name="path"/> and returns the call's grpc-status and grpc-message.</summary>
    public static async Task<Status> CallAsync(string address, string path, byte[] message)
    {
        using var http = new HttpClient();
        var frame = new byte[5 + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)message.Length);
        message.CopyTo(frame, 5);
        using var request = new HttpRequestMessage(HttpMethod.Post, address + path)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(frame),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TE.Add(new TransferCodingWithQualityHeaderValue("trailers"));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var response = await http.SendAsync(request, timeout.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await response.Content.ReadAsByteArrayAsync(timeout.Token); // trailers follow the body

        // A call that fails before any message is "trailers-only": the status is in the headers.
        var status = Header(response.TrailingHeaders, "grpc-status") ?? Header(response.Headers, "grpc-status")
            ?? throw new Xunit.Sdk.XunitException($"no grpc-status in the response to {path}");
        var detail = Header(response.TrailingHeaders, "grpc-message") ?? Header(response.Headers, "grpc-message") ?? "";
        return new Status((StatusCode)int.Parse(status, System.Globalization.CultureInfo.InvariantCulture), Uri.UnescapeDataString(detail));
    }

    private static string? Header(HttpHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.First() : null;
}
