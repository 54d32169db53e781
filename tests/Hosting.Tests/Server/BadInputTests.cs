using System.Net;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microservices.Hosting.Tests.Support;
using Microservices.Testing.V1;
using Microservices.TestSupport;

namespace Microservices.Hosting.Tests.Server;

/// <summary>
/// Each malformed request against a host with our defaults gets grpc-dotnet's status (or Kestrel's
/// answer), and the host keeps serving others.
/// </summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private const string UnaryPath = "/" + ServiceHost.TestServiceName + "/UnaryCall";
    private ServiceHost _host = null!;
    private HttpClient _raw = null!;

    public async Task InitializeAsync()
    {
        _host = await ServiceHost.StartAsync("bad-input-test");
        _raw = RawGrpc.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _raw.Dispose();
        await _host.DisposeAsync();
    }

    [Fact]
    public async Task Truncated_frame_is_internal()
    {
        var message = new SimpleRequest { ResponseSize = 10, Payload = new Payload { Body = ByteString.CopyFrom(new byte[100]) } }.ToByteArray();
        var response = await SendAsync(RawGrpc.Frame(message)[..50]);
        AssertStatus(response, StatusCode.Internal, "Incomplete message.");
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Length_prefix_over_the_limit_is_resource_exhausted_without_reading_the_body()
    {
        // Declares 5 MiB (limit 4 MiB) but sends only a few bytes: the prefix alone must be refused.
        var response = await SendAsync(RawGrpc.Frame([1, 2, 3], declaredLength: 5 * 1024 * 1024));
        AssertStatus(response, StatusCode.ResourceExhausted, "Received message exceeds the maximum configured message size.");
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Oversized_message_through_the_generated_client_is_resource_exhausted()
    {
        using var channel = GrpcChannel.ForAddress(_host.Address);
        var request = new SimpleRequest { Payload = new Payload { Body = ByteString.CopyFrom(new byte[5 * 1024 * 1024]) } };
        var error = await Assert.ThrowsAsync<RpcException>(async () => await new TestService.TestServiceClient(channel).UnaryCallAsync(request));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Garbage_protobuf_is_unknown()
    {
        // grpc-dotnet reports a request that does not parse like a handler's exception (detailed
        // errors off, so nothing of the parser leaks); the old layer said INTERNAL "Failed to deserialize".
        var response = await SendAsync(RawGrpc.Frame([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
        AssertStatus(response, StatusCode.Unknown, "Exception was thrown by handler.");
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Compressed_flag_without_grpc_encoding_is_internal()
    {
        var response = await SendAsync(RawGrpc.Frame(new SimpleRequest { ResponseSize = 1 }.ToByteArray(), compressedFlag: true));
        AssertStatus(response, StatusCode.Internal, "Request did not include grpc-encoding value with compressed message.");
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Invalid_compressed_flag_value_is_unknown()
    {
        var frame = RawGrpc.Frame(new SimpleRequest { ResponseSize = 1 }.ToByteArray());
        frame[0] = 7;
        var response = await SendAsync(frame);
        AssertStatus(response, StatusCode.Unknown, "Exception was thrown by handler.");
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Corrupt_gzip_payload_is_unknown()
    {
        var response = await SendAsync(RawGrpc.Frame([1, 2, 3, 4, 5, 6], compressedFlag: true), ("grpc-encoding", "gzip"));
        AssertStatus(response, StatusCode.Unknown, "Exception was thrown by handler.");
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Unknown_grpc_encoding_is_unimplemented_and_names_what_is_accepted()
    {
        var response = await SendAsync(RawGrpc.Frame(new SimpleRequest().ToByteArray(), compressedFlag: true), ("grpc-encoding", "snappy"));
        AssertStatus(response, StatusCode.Unimplemented, "snappy");
        Assert.True(response.TrailersOnly);
        Assert.Equal("identity,gzip,deflate", response.Headers["grpc-accept-encoding"]);
        await AssertStillServingAsync();
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("10")]
    [InlineData("123456789S")]
    [InlineData("5x")]
    public async Task Malformed_grpc_timeout_is_ignored(string timeout)
    {
        // grpc-dotnet logs and ignores a grpc-timeout it cannot parse: the call runs without a
        // deadline. The old layer refused it with INTERNAL "Malformed grpc-timeout".
        var response = await SendAsync(RawGrpc.Frame(new SimpleRequest { ResponseSize = 2 }.ToByteArray()), ("grpc-timeout", timeout));
        AssertStatus(response, StatusCode.OK, "");
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Metadata_over_the_limit_is_resource_exhausted()
    {
        var response = await SendAsync(RawGrpc.Frame(new SimpleRequest().ToByteArray()), ("x-big", new string('a', 20_000)));
        AssertStatus(response, StatusCode.ResourceExhausted, "the limit is 16384 (Grpc:MaxRequestMetadataSize)");
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Binary_metadata_that_is_not_base64_is_internal()
    {
        var response = await SendAsync(RawGrpc.Frame(new SimpleRequest().ToByteArray()), ("x-token-bin", "not*base64!"));
        AssertStatus(response, StatusCode.Internal, "binary request metadata x-token-bin is not valid base64");
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Metadata_beyond_Kestrels_header_limit_fails_the_call_and_the_server_survives()
    {
        var request = RawGrpc.Request(_host.Address, UnaryPath, RawGrpc.Frame(new SimpleRequest().ToByteArray()));
        request.Headers.TryAddWithoutValidation("x-huge", new string('a', 200_000));
        var failed = false;
        try
        {
            var response = await RawGrpc.SendAsync(_raw, request);
            failed = response.HttpStatus != HttpStatusCode.OK || response.GrpcStatus != (int)StatusCode.OK;
        }
        catch (HttpRequestException)
        {
            failed = true;
        }

        Assert.True(failed, "A 200 KB header must not be accepted.");
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Non_grpc_content_type_is_415()
    {
        var response = await RawGrpc.SendAsync(_raw, RawGrpc.Request(_host.Address, UnaryPath, [1, 2, 3], "application/json"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.HttpStatus);
        await AssertStillServingAsync();
    }

    [Theory]
    [InlineData("application/grpc+proto")]
    [InlineData("application/grpc; charset=utf-8")]
    public async Task Grpc_content_type_variants_are_served(string contentType)
    {
        var response = await RawGrpc.SendAsync(_raw, RawGrpc.Request(_host.Address, UnaryPath, RawGrpc.Frame(new SimpleRequest { ResponseSize = 1 }.ToByteArray()), contentType));
        AssertStatus(response, StatusCode.OK, "");
    }

    [Fact]
    public async Task Unknown_method_and_service_are_unimplemented_trailers_only()
    {
        var method = await RawGrpc.SendAsync(_raw, RawGrpc.Request(_host.Address, "/" + ServiceHost.TestServiceName + "/Nope", RawGrpc.Frame([])));
        AssertStatus(method, StatusCode.Unimplemented, "Method is unimplemented.");
        Assert.True(method.TrailersOnly);

        var service = await RawGrpc.SendAsync(_raw, RawGrpc.Request(_host.Address, "/no.Such/Thing", RawGrpc.Frame([])));
        AssertStatus(service, StatusCode.Unimplemented, "Service is unimplemented.");
        Assert.True(service.TrailersOnly);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Unary_request_with_two_messages_or_none_is_internal()
    {
        var one = RawGrpc.Frame(new SimpleRequest().ToByteArray());
        AssertStatus(await SendAsync([.. one, .. one]), StatusCode.Internal, "Additional data after the message received.");
        AssertStatus(await SendAsync([]), StatusCode.Internal, "Incomplete message.");
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task A_client_that_opens_many_streams_and_never_reads_does_not_starve_others()
    {
        // One connection, 150 server-streaming calls asking for 64 MiB each, never read: flow
        // control must hold the writers back while everyone else is still served.
        using var greedy = RawGrpc.CreateClient(multipleConnections: false);
        var request = new StreamingOutputCallRequest();
        for (var i = 0; i < 64; i++)
        {
            request.ResponseParameters.Add(new ResponseParameters { Size = 1024 * 1024 });
        }

        var body = RawGrpc.Frame(request.ToByteArray());
        var responses = new List<HttpResponseMessage>();
        var pending = Enumerable.Range(0, 150).Select(async _ =>
        {
            var message = RawGrpc.Request(_host.Address, "/" + ServiceHost.TestServiceName + "/StreamingOutputCall", body);
            var response = await greedy.SendAsync(message, HttpCompletionOption.ResponseHeadersRead);
            lock (responses)
            {
                responses.Add(response);
            }
        }).ToList();

        // Served while the greedy streams are open and their windows full (the call's deadline bounds the wait).
        await Eventually.HoldsAsync(() => { lock (responses) { return responses.Count >= 100; } }, "100 greedy streams had their response headers");
        await AssertStillServingAsync();

        greedy.CancelPendingRequests();
        lock (responses)
        {
            responses.ForEach(r => r.Dispose());
        }

        await Task.WhenAll(pending.Select(p => p.ContinueWith(_ => { }, TaskScheduler.Default)));
        await AssertStillServingAsync();
    }

    private static void AssertStatus(RawGrpc.RawResponse response, StatusCode expected, string messagePart)
    {
        var seen = $"HTTP {(int)response.HttpStatus}, grpc-status {response.GrpcStatus}, grpc-message '{response.GrpcMessage}', " +
            $"trailers-only {response.TrailersOnly}, headers [{string.Join(", ", response.Headers.Select(h => h.Key + "=" + h.Value))}]";
        Assert.True(response.GrpcStatus == (int)expected, $"expected {expected}; got {seen}");
        Assert.True(response.GrpcMessage.Contains(messagePart, StringComparison.Ordinal), $"expected a message with '{messagePart}'; got {seen}");
    }

    private async Task<RawGrpc.RawResponse> SendAsync(byte[] body, params (string Name, string Value)[] headers)
    {
        var response = await RawGrpc.SendAsync(_raw, RawGrpc.Request(_host.Address, UnaryPath, body, headers: headers));
        Assert.Equal(HttpStatusCode.OK, response.HttpStatus);
        return response;
    }

    private async Task AssertStillServingAsync()
    {
        using var fresh = GrpcChannel.ForAddress(_host.Address);
        var response = await new TestService.TestServiceClient(fresh).UnaryCallAsync(new SimpleRequest { ResponseSize = 3 },
            deadline: DateTime.UtcNow.AddSeconds(10));
        Assert.Equal(3, response.Payload.Body.Length);
    }
}
