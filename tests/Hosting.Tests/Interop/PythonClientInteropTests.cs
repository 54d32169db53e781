using System.Globalization;
using Microservices.Hosting.Tests.Support;
using Microservices.TestSupport;

namespace Microservices.Hosting.Tests.Interop;

/// <summary>
/// grpcio's client (Debian python3-grpcio) runs the official interop cases against a host built
/// with our defaults serving the test contract: the cases the old suite ran against our own layer.
/// </summary>
public sealed class PythonClientInteropTests : IAsyncLifetime
{
    private ServiceHost _host = null!;

    public static TheoryData<string> Cases =>
    [
        "empty_unary", "large_unary", "client_streaming", "server_streaming", "ping_pong", "empty_stream",
        "custom_metadata", "status_code_and_message", "special_status_message", "unimplemented_method",
        "unimplemented_service", "timeout_on_sleeping_server", "cancel_after_begin", "cancel_after_first_response",
        "client_compressed_unary", "server_compressed_unary",
    ];

    public async Task InitializeAsync() => _host = await ServiceHost.StartAsync("interop-test");

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Case_passes(string testCase)
    {
        // No --no_compression_probe: our host must refuse an uncompressed request that claims otherwise.
        var (exitCode, output) = await Python.RunScriptAsync(
            "interop_client.py", "--server_host", "127.0.0.1", "--server_port", _host.Port.ToString(CultureInfo.InvariantCulture), "--test_case", testCase);
        Assert.True(exitCode == 0, $"grpcio interop client failed {testCase} against our host:\n{output}");
        Assert.Contains("PASS " + testCase, output, StringComparison.Ordinal);
    }
}
