using Microservices.Export.Jobs;

namespace Microservices.Export.Tests.Jobs;

public sealed class PartSizeTests
{
    private const long MiB = 1024 * 1024;

    [Fact]
    public void Ten_thousand_parts_hold_s3s_largest_object_and_no_part_passes_s3s_limits()
    {
        long total = 0;
        for (var part = 1; part <= 10_000; part++)
        {
            var size = ExportRunner.PartTarget(part, 8 * 1024 * 1024);
            Assert.InRange(size, 5 * MiB, 5L * 1024 * MiB);
            total += size;
        }

        Assert.True(total >= 5L * 1024 * 1024 * MiB, $"10,000 parts hold {total / MiB} MiB, less than 5 TiB");
        Assert.Equal(8 * MiB, ExportRunner.PartTarget(1000, 8 * 1024 * 1024));
        Assert.Equal(16 * MiB, ExportRunner.PartTarget(1001, 8 * 1024 * 1024));
    }
}
