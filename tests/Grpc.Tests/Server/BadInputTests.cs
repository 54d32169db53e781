using System.Net;
using Google.Protobuf;
using Microservices.Grpc.Client;
using Microservices.Grpc.Tests.Interop;
using Microservices.Grpc.Tests.Support;
using Microservices.Testing.V1;

namespace Microservices.Grpc.Tests.Server;

/// <summary>Each malformed request gets the status the gRPC spec gives, and the server keeps serving others.</summary>
public sealed class BadInputTests : InteropServerTest
{
    private const string UnaryPath = "/microservices.testing.v1.TestService/UnaryCall";
    private HttpClient _raw = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _raw = RawGrpc.CreateClient();
    }

    public override async Task DisposeAsync()
    {
        _raw.Dispose();
        await base.DisposeAsync();
    }

    [Fact]
    public async Task Truncated_frame_is_internal()
    {
        var message = new SimpleRequest { ResponseSize = 10, Payload = new Payload { Body = ByteString.CopyFrom(new byte[100]) } }.ToByteArray();
        var frame = RawGrpc.Frame(message)[..50];
        var response = await SendAsync(frame);
        Assert.Equal(StatusCode.Internal, response.GrpcStatus);
        Assert.Contains("Incomplete message", response.GrpcMessage, StringComparison.Ordinal);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Length_prefix_over_the_limit_is_resource_exhausted_without_reading_the_body()
    {
        // Declares 5 MiB (limit 4 MiB) but sends only a few bytes: the prefix alone must be refused.
        var frame = RawGrpc.Frame([1, 2, 3], declaredLength: 5 * 1024 * 1024);
        var response = await SendAsync(frame);
        Assert.Equal(StatusCode.ResourceExhausted, response.GrpcStatus);
        Assert.Contains("exceeds the maximum message size of 4194304 bytes", response.GrpcMessage, StringComparison.Ordinal);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Oversized_message_through_our_client_is_resource_exhausted()
    {
        var request = new SimpleRequest { Payload = new Payload { Body = ByteString.CopyFrom(new byte[5 * 1024 * 1024]) } };
        var error = await Assert.ThrowsAsync<RpcException>(() => Channel.UnaryAsync(TestContract.UnaryCall, request));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Garbage_protobuf_is_internal()
    {
        var response = await SendAsync(RawGrpc.Frame([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
        Assert.Equal(StatusCode.Internal, response.GrpcStatus);
        Assert.Contains("Failed to deserialize SimpleRequest", response.GrpcMessage, StringComparison.Ordinal);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Compressed_flag_without_grpc_encoding_is_internal()
    {
        var response = await SendAsync(RawGrpc.Frame(new SimpleRequest { ResponseSize = 1 }.ToByteArray(), compressedFlag: true));
        Assert.Equal(StatusCode.Internal, response.GrpcStatus);
        Assert.Contains("no grpc-encoding", response.GrpcMessage, StringComparison.Ordinal);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Invalid_compressed_flag_value_is_internal()
    {
        var frame = RawGrpc.Frame(new SimpleRequest { ResponseSize = 1 }.ToByteArray());
        frame[0] = 7;
        var response = await SendAsync(frame);
        Assert.Equal(StatusCode.Internal, response.GrpcStatus);
        Assert.Contains("compressed flag is 7", response.GrpcMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Corrupt_gzip_payload_is_internal()
    {
        var response = await SendAsync(RawGrpc.Frame([1, 2, 3, 4, 5, 6], compressedFlag: true), ("grpc-encoding", "gzip"));
        Assert.Equal(StatusCode.Internal, response.GrpcStatus);
        Assert.Contains("decompress", response.GrpcMessage, StringComparison.Ordinal);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Unknown_grpc_encoding_is_unimplemented_and_names_what_is_accepted()
    {
        var response = await SendAsync(RawGrpc.Frame(new SimpleRequest().ToByteArray(), compressedFlag: true), ("grpc-encoding", "snappy"));
        Assert.Equal(StatusCode.Unimplemented, response.GrpcStatus);
        Assert.Contains("snappy", response.GrpcMessage, StringComparison.Ordinal);
        Assert.True(response.TrailersOnly);
        Assert.Equal("identity,gzip,deflate", response.Headers["grpc-accept-encoding"]);
        await AssertStillServingAsync();
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("10")]
    [InlineData("123456789S")]
    [InlineData("5x")]
    public async Task Malformed_grpc_timeout_is_internal(string timeout)
    {
        var response = await SendAsync(RawGrpc.Frame(new SimpleRequest().ToByteArray()), ("grpc-timeout", timeout));
        Assert.Equal(StatusCode.Internal, response.GrpcStatus);
        Assert.Contains("Malformed grpc-timeout", response.GrpcMessage, StringComparison.Ordinal);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Oversized_metadata_value_is_resource_exhausted()
    {
        var response = await SendAsync(RawGrpc.Frame(new SimpleRequest().ToByteArray()), ("x-big", new string('a', 20_000)));
        Assert.Equal(StatusCode.ResourceExhausted, response.GrpcStatus);
        Assert.Contains("Request metadata is", response.GrpcMessage, StringComparison.Ordinal);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Binary_metadata_that_is_not_base64_is_internal()
    {
        var response = await SendAsync(RawGrpc.Frame(new SimpleRequest().ToByteArray()), ("x-token-bin", "not*base64!"));
        Assert.Equal(StatusCode.Internal, response.GrpcStatus);
        Assert.Contains("'x-token-bin' is not valid base64", response.GrpcMessage, StringComparison.Ordinal);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Metadata_beyond_the_transport_limit_fails_the_call_and_theServer_survives()
    {
        var request = RawGrpc.Request(Server.Address, UnaryPath, RawGrpc.Frame(new SimpleRequest().ToByteArray()));
        request.Headers.TryAddWithoutValidation("x-huge", new string('a', 200_000));
        var failed = false;
        try
        {
            var response = await RawGrpc.SendAsync(_raw, request);
            failed = response.HttpStatus != HttpStatusCode.OK || response.GrpcStatus != StatusCode.OK;
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
        var response = await RawGrpc.SendAsync(_raw, RawGrpc.Request(Server.Address, UnaryPath, [1, 2, 3], "application/json"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.HttpStatus);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Unknown_method_and_service_are_unimplemented_trailers_only()
    {
        var method = await RawGrpc.SendAsync(_raw, RawGrpc.Request(Server.Address, "/microservices.testing.v1.TestService/Nope", RawGrpc.Frame([])));
        Assert.Equal(StatusCode.Unimplemented, method.GrpcStatus);
        Assert.True(method.TrailersOnly);
        Assert.Contains("Method 'Nope'", method.GrpcMessage, StringComparison.Ordinal);

        var service = await RawGrpc.SendAsync(_raw, RawGrpc.Request(Server.Address, "/no.Such/Thing", RawGrpc.Frame([])));
        Assert.Equal(StatusCode.Unimplemented, service.GrpcStatus);
        Assert.Contains("Service 'no.Such'", service.GrpcMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unary_request_with_two_messages_or_none_is_internal()
    {
        var one = RawGrpc.Frame(new SimpleRequest().ToByteArray());
        var two = await SendAsync([.. one, .. one]);
        Assert.Equal(StatusCode.Internal, two.GrpcStatus);
        var none = await SendAsync([]);
        Assert.Equal(StatusCode.Internal, none.GrpcStatus);
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
            var message = RawGrpc.Request(Server.Address, "/microservices.testing.v1.TestService/StreamingOutputCall", body);
            var response = await greedy.SendAsync(message, HttpCompletionOption.ResponseHeadersRead);
            lock (responses)
            {
                responses.Add(response);
            }
        }).ToList();
        await Task.Delay(1000);

        var started = DateTime.UtcNow;
        await AssertStillServingAsync();
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10), "Other clients must be served while one hoards streams.");

        greedy.CancelPendingRequests();
        lock (responses)
        {
            responses.ForEach(r => r.Dispose());
        }

        await Task.WhenAll(pending.Select(p => p.ContinueWith(_ => { }, TaskScheduler.Default)));
        await AssertStillServingAsync();
    }

    private async Task<RawGrpc.RawResponse> SendAsync(byte[] body, params (string Name, string Value)[] headers)
    {
        var request = RawGrpc.Request(Server.Address, UnaryPath, body);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        var response = await RawGrpc.SendAsync(_raw, request);
        Assert.Equal(HttpStatusCode.OK, response.HttpStatus);
        return response;
    }

    private async Task AssertStillServingAsync()
    {
        using var fresh = GrpcChannel.ForAddress(Server.Address);
        var response = await fresh.UnaryAsync(TestContract.UnaryCall, new SimpleRequest { ResponseSize = 3 },
            new CallOptions().WithTimeout(TimeSpan.FromSeconds(10)));
        Assert.Equal(3, response.Payload.Body.Length);
    }
}
