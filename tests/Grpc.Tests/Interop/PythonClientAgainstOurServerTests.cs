using Microservices.Grpc.Tests.Support;
using Microservices.Testing.V1;

namespace Microservices.Grpc.Tests.Interop;

/// <summary>grpcio's client (Debian python3-grpcio) runs the official interop cases against our server.</summary>
public sealed class PythonClientAgainstOurServerTests : InteropServerTest
{

    public static TheoryData<string> Cases =>
    [
        "empty_unary", "large_unary", "client_streaming", "server_streaming", "ping_pong", "empty_stream",
        "custom_metadata", "status_code_and_message", "special_status_message", "unimplemented_method",
        "unimplemented_service", "timeout_on_sleeping_server", "cancel_after_begin", "cancel_after_first_response",
        "client_compressed_unary", "server_compressed_unary",
    ];

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Case_passes(string testCase)
    {
        var (exitCode, output) = await Python.RunScriptAsync(
            "interop_client.py", "--server_host", "127.0.0.1", "--server_port", Server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--test_case", testCase);
        Assert.True(exitCode == 0, $"grpcio interop client failed {testCase} against our server:\n{output}");
        Assert.Contains("PASS", output, StringComparison.Ordinal);
    }
}
