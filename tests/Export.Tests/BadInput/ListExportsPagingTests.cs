using Microservices.Export.Tests.Support;
using Microservices.Export.V1;

namespace Microservices.Export.Tests.BadInput;

[Collection(nameof(ImportTargetFixture))]
public sealed class ListExportsPagingTests(ImportTargetFixture fixture)
{
    [Fact]
    public async Task Three_exports_page_newest_first_and_the_last_page_has_no_token()
    {
        const string owner = "pager";
        await Seed.ModelsAsync(fixture.System, owner, 1);
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var started = await fixture.System.Export.StartExportAsync(new StartExportRequest(), ExportSystem.As(owner));
            Assert.Equal(JobState.Completed, (await Seed.FinishedAsync(fixture.System, owner, started.ExportId)).State);
            ids.Add(started.ExportId);
        }

        ids.Reverse();
        var first = await fixture.System.Export.ListExportsAsync(new ListExportsRequest { PageSize = 2 }, ExportSystem.As(owner));
        Assert.Equal(ids[..2], first.Exports.Select(e => e.ExportId));
        Assert.NotEmpty(first.NextPageToken);
        var second = await fixture.System.Export.ListExportsAsync(new ListExportsRequest { PageSize = 2, PageToken = first.NextPageToken }, ExportSystem.As(owner));
        Assert.Equal(ids[2..], second.Exports.Select(e => e.ExportId));
        Assert.Empty(second.NextPageToken);

        var all = await fixture.System.Export.ListExportsAsync(new ListExportsRequest { PageSize = 1000 }, ExportSystem.As(owner));
        Assert.Equal(ids, all.Exports.Select(e => e.ExportId));
        Assert.Empty(all.NextPageToken);
        Assert.True(all.Exports.Zip(all.Exports.Skip(1)).All(p => p.First.CreatedAt.ToDateTimeOffset() >= p.Second.CreatedAt.ToDateTimeOffset()));
    }
}
