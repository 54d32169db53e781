using Grpc.Core;
using Microservices.Export.Tests.Support;
using Microservices.Export.V1;
using static Microservices.Export.Tests.Support.RpcAssert;

namespace Microservices.Export.Tests.Review;

/// <summary>Redis (the job store) down: calls answer UNAVAILABLE saying so, not UNKNOWN with an exception's text.</summary>
public sealed class JobStoreDownTests
{
    [Fact]
    public async Task Calls_while_Redis_is_down_are_UNAVAILABLE_naming_the_job_store()
    {
        await using var system = await ExportSystem.StartAsync();
        await system.Redis.StopAsync();
        try
        {
            var get = new GetExportRequest { ExportId = Guid.NewGuid().ToString("N") };

            var unary = await FailsAsync(StatusCode.Unavailable, async () => await system.Export.GetExportAsync(get, ExportSystem.As("alice")));
            var streaming = await StreamFailsAsync(StatusCode.Unavailable, () => system.Export.WatchExport(get, ExportSystem.As("alice")));

            Assert.StartsWith("job store unreachable: ", unary.Status.Detail, StringComparison.Ordinal);
            Assert.StartsWith("job store unreachable: ", streaming.Status.Detail, StringComparison.Ordinal);
        }
        finally
        {
            await system.Redis.StartAgainAsync();
        }
    }
}
