using System.Globalization;
using Grpc.Net.Client;
using Microservices.Hosting.Tests.Support;
using Microservices.TestSupport;

namespace Microservices.Hosting.Tests.Interop;

/// <summary>
/// The same cases driven by the generated client (Grpc.Net.Client): against grpcio's server
/// (Debian python3-grpcio), so our host's peer is held to a server nobody here wrote, and against
/// a host with our defaults.
/// </summary>
public sealed class GeneratedClientInteropTests : IAsyncLifetime
{
    private ExternalProcess _server = null!;
    private GrpcChannel _python = null!;

    public static TheoryData<string> Cases => PythonClientInteropTests.Cases;

    public async Task InitializeAsync()
    {
        _server = Python.StartScript("interop_server.py", "--port", "0");
        await _server.WaitForOutputAsync("READY ", TimeSpan.FromSeconds(30));
        var port = int.Parse(_server.Output.Split("READY ")[1].Split('\n')[0].Trim(), CultureInfo.InvariantCulture);
        _python = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
    }

    public async Task DisposeAsync()
    {
        _python.Dispose();
        await _server.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Case_passes_against_grpcio_server(string testCase)
    {
        var cases = new GeneratedClientCases(_python);
        if (testCase == "client_compressed_unary")
        {
            // grpcio's server cannot see whether a request arrived compressed, so it cannot answer
            // the probe (grpc/grpc skips this case for Python servers too); it must still decompress.
            await cases.ClientCompressedWithoutProbeAsync();
            return;
        }

        await cases.RunAsync(testCase);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Case_passes_against_our_host(string testCase)
    {
        await using var host = await ServiceHost.StartAsync("generated-client-interop-test");
        using var channel = GrpcChannel.ForAddress(host.Address);
        await new GeneratedClientCases(channel).RunAsync(testCase);
    }
}
