using System.Globalization;
using Microservices.Grpc.Client;
using Microservices.Grpc.Tests.Support;
using Microservices.TestSupport;

namespace Microservices.Grpc.Tests.Interop;

/// <summary>Our client runs the official interop cases against grpcio's server (Debian python3-grpcio).</summary>
public sealed class OurClientAgainstPythonServerTests : IAsyncLifetime
{
    private ExternalProcess _server = null!;
    private GrpcChannel _channel = null!;

    public static TheoryData<string> Cases => PythonClientAgainstOurServerTests.Cases;

    public async Task InitializeAsync()
    {
        var port = FreePort.Next();
        _server = ExternalProcess.Start(Python.Executable,
            [Path.Combine(Python.ScriptsDirectory, "interop_server.py"), "--port", port.ToString(CultureInfo.InvariantCulture)], Python.ScriptsDirectory);
        await _server.WaitForPortAsync(port, TimeSpan.FromSeconds(30));
        _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _server.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Case_passes(string testCase)
    {
        if (testCase == "client_compressed_unary")
        {
            // grpcio's server cannot see whether a request arrived compressed, so it cannot answer
            // the probe (grpc/grpc skips this case for Python servers too). Run the compressed
            // requests themselves, which it must decompress correctly.
            var compressed = await _channel.UnaryAsync(TestContract.UnaryCall,
                new Testing.V1.SimpleRequest { ResponseSize = 314159, Payload = new Testing.V1.Payload { Body = Google.Protobuf.ByteString.CopyFrom(new byte[271828]) } },
                new CallOptions { Compression = "gzip" });
            Assert.Equal(314159, compressed.Payload.Body.Length);
            return;
        }

        await new InteropClientCases(_channel).RunAsync(testCase);
    }
}
