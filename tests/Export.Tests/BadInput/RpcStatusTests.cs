using System.Globalization;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microservices.Export.Extensions;
using Microservices.Export.Storage;
using Microservices.Export.Tests.Format;
using Microservices.Export.Tests.Support;
using Microservices.Export.V1;
using Microservices.TestSupport;
using static Microservices.Export.Tests.Support.RpcAssert;

namespace Microservices.Export.Tests.BadInput;

/// <summary>One installation with the default 24 h window and a small upload cap, and one completed export of owner "done".</summary>
public sealed class RpcStatusFixture : IAsyncLifetime
{
    public const long MaxArchiveBytes = 300_000;

    public const int MaxWatchesPerOwner = 2;

    internal ExportSystem System { get; private set; } = null!;

    public ExportJob Completed { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        System = await ExportSystem.StartAsync(new(ExportSystem.LoopbackArchiveUrls())
        {
            ["Export:Import:MaxArchiveBytes"] = MaxArchiveBytes.ToString(CultureInfo.InvariantCulture),
            ["Export:MaxWatchesPerOwner"] = MaxWatchesPerOwner.ToString(CultureInfo.InvariantCulture),
        });
        await Seed.ModelsAsync(System, "done", 2);
        var started = await System.Export.StartExportAsync(new StartExportRequest(), ExportSystem.As("done"));
        Completed = await Seed.FinishedAsync(System, "done", started.ExportId);
        Assert.Equal(JobState.Completed, Completed.State);
    }

    public async Task DisposeAsync() => await System.DisposeAsync();
}

public sealed class RpcStatusTests(RpcStatusFixture fixture) : IClassFixture<RpcStatusFixture>
{
    private ExportSystem System => fixture.System;

    private ExportService.ExportServiceClient Export => fixture.System.Export;

    [Fact]
    public async Task An_unknown_export_id_and_another_owners_are_NOT_FOUND_with_the_same_message()
    {
        var unknown = Guid.NewGuid().ToString("N");
        var theirs = fixture.Completed.ExportId;

        foreach (var id in new[] { unknown, theirs })
        {
            var expected = $"No export {id}.";
            var get = new GetExportRequest { ExportId = id };
            Assert.Equal(expected, (await FailsAsync(StatusCode.NotFound, async () => await Export.GetExportAsync(get, ExportSystem.As("stranger")))).Status.Detail);
            Assert.Equal(expected, (await FailsAsync(StatusCode.NotFound, async () => await Export.CancelExportAsync(get, ExportSystem.As("stranger")))).Status.Detail);
            Assert.Equal(expected, (await StreamFailsAsync(StatusCode.NotFound, () => Export.WatchExport(get, ExportSystem.As("stranger")))).Status.Detail);
            Assert.Equal(expected, (await FailsAsync(StatusCode.NotFound, async () => await Export.GetDownloadUrlAsync(new GetDownloadUrlRequest { ExportId = id }, ExportSystem.As("stranger")))).Status.Detail);
            Assert.Equal(expected, (await StreamFailsAsync(StatusCode.NotFound, () => Export.Download(new DownloadRequest { ExportId = id }, ExportSystem.As("stranger")))).Status.Detail);
            Assert.Equal(expected, (await FailsAsync(StatusCode.NotFound, async () => await Export.StartImportAsync(new StartImportRequest { ExportId = id }, ExportSystem.As("stranger")))).Status.Detail);
        }

        Assert.Equal($"No import {unknown}.", (await FailsAsync(StatusCode.NotFound, async () => await Export.GetImportAsync(new GetImportRequest { ImportId = unknown }, ExportSystem.As("stranger")))).Status.Detail);

        // An export id is not an import id.
        await FailsAsync(StatusCode.NotFound, async () => await Export.GetImportAsync(new GetImportRequest { ImportId = theirs }, ExportSystem.As("done")));
        Assert.Empty((await Export.ListExportsAsync(new ListExportsRequest(), ExportSystem.As("stranger"))).Exports);
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("0123456789ABCDEF0123456789ABCDEF")]
    [InlineData("0123456789abcdef0123456789abcdef0")]
    [InlineData("../../../../etc/passwd")]
    public async Task A_malformed_id_is_INVALID_ARGUMENT_naming_its_field(string id)
    {
        var get = new GetExportRequest { ExportId = id };
        var owner = ExportSystem.As("done");

        foreach (var call in new Func<Task>[]
        {
            async () => await Export.GetExportAsync(get, owner),
            async () => await Export.CancelExportAsync(get, owner),
            async () => await Export.GetDownloadUrlAsync(new GetDownloadUrlRequest { ExportId = id }, owner),
            async () => await Export.StartImportAsync(new StartImportRequest { ExportId = id }, owner),
        })
        {
            Assert.Contains("export_id must be 32 lowercase hex characters", (await FailsAsync(StatusCode.InvalidArgument, call)).Status.Detail, StringComparison.Ordinal);
        }

        Assert.Contains("export_id", (await StreamFailsAsync(StatusCode.InvalidArgument, () => Export.Download(new DownloadRequest { ExportId = id }, owner))).Status.Detail, StringComparison.Ordinal);
        Assert.Contains("export_id", (await StreamFailsAsync(StatusCode.InvalidArgument, () => Export.WatchExport(get, owner))).Status.Detail, StringComparison.Ordinal);
        Assert.Contains("import_id", (await FailsAsync(StatusCode.InvalidArgument, async () => await Export.GetImportAsync(new GetImportRequest { ImportId = id }, owner))).Status.Detail, StringComparison.Ordinal);
        Assert.Contains("archive_id", (await FailsAsync(StatusCode.InvalidArgument, async () => await Export.StartImportAsync(new StartImportRequest { ArchiveId = id }, owner))).Status.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(".hidden")]
    [InlineData("a/b")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public async Task A_missing_token_or_a_subject_unfit_to_be_an_owner_is_UNAUTHENTICATED(string? subject)
    {
        var options = ExportSystem.With(subject is null ? null : TestTokens.For(subject), TimeSpan.FromMinutes(1));
        var id = fixture.Completed.ExportId;
        foreach (var call in new Func<Task>[]
        {
            async () => await Export.StartExportAsync(new StartExportRequest(), options),
            async () => await Export.GetExportAsync(new GetExportRequest { ExportId = id }, options),
            async () => await Export.ListExportsAsync(new ListExportsRequest(), options),
            async () => await Export.CancelExportAsync(new GetExportRequest { ExportId = id }, options),
            async () => await Export.GetDownloadUrlAsync(new GetDownloadUrlRequest { ExportId = id }, options),
            async () => await Export.StartImportAsync(new StartImportRequest { ExportId = id }, options),
            async () => await Export.GetImportAsync(new GetImportRequest { ImportId = id }, options),
            async () =>
            {
                using var upload = Export.UploadArchive(options);
                await ServerEndedWrite.IgnoringRefusalAsync(async () =>
                {
                    await upload.RequestStream.WriteAsync(new UploadArchiveRequest { Chunk = ByteString.CopyFrom(1, 2, 3) });
                    await upload.RequestStream.CompleteAsync();
                });

                await upload.ResponseAsync;
            },
        })
        {
            Assert.Contains(subject is null ? "no bearer token" : "subject", (await FailsAsync(StatusCode.Unauthenticated, call)).Status.Detail, StringComparison.Ordinal);
        }

        await StreamFailsAsync(StatusCode.Unauthenticated, () => Export.Download(new DownloadRequest { ExportId = id }, options));
    }

    [Fact]
    public async Task Cancelling_a_completed_export_is_FAILED_PRECONDITION_naming_its_state()
    {
        var id = fixture.Completed.ExportId;

        var error = await FailsAsync(StatusCode.FailedPrecondition, async () => await Export.CancelExportAsync(new GetExportRequest { ExportId = id }, ExportSystem.As("done")));

        Assert.Equal($"Export {id} is completed; only queued or running exports can be cancelled.", error.Status.Detail);
        Assert.Equal(JobState.Completed, (await Export.GetExportAsync(new GetExportRequest { ExportId = id }, ExportSystem.As("done"))).State);
    }

    [Fact]
    public async Task A_running_export_cannot_be_downloaded_and_cancelling_it_ends_it_cancelled_without_using_up_the_window()
    {
        const string owner = "canceller";
        await Seed.ModelsAsync(System, owner, 3);

        // With the registry down the export runs (its upload is open) but cannot get past counting.
        await System.StopRegistryAsync();
        ExportJob running;
        try
        {
            var started = await Export.StartExportAsync(new StartExportRequest(), ExportSystem.As(owner));
            await Eventually.HoldsAsync(async () => (await Export.GetExportAsync(new GetExportRequest { ExportId = started.ExportId }, ExportSystem.As(owner))).State == JobState.Running, "the export runs");
            running = started;

            // A running job's watches stay open: past Export:MaxWatchesPerOwner the next is refused, for this owner only.
            var watch = new GetExportRequest { ExportId = running.ExportId };
            using (var first = Export.WatchExport(watch, ExportSystem.As(owner)))
            using (var second = Export.WatchExport(watch, ExportSystem.As(owner)))
            {
                Assert.True(await first.ResponseStream.MoveNext(CancellationToken.None));
                Assert.True(await second.ResponseStream.MoveNext(CancellationToken.None));
                var third = await StreamFailsAsync(StatusCode.ResourceExhausted, () => Export.WatchExport(watch, ExportSystem.As(owner)));
                Assert.Equal($"This owner already has {RpcStatusFixture.MaxWatchesPerOwner} open watches on this replica (Export:MaxWatchesPerOwner); end one first.", third.Status.Detail);
                await StreamFailsAsync(StatusCode.NotFound, () => Export.WatchExport(watch, ExportSystem.As("stranger")));
            }

            // Ended watches give their slots back (once the server has seen the cancellations).
            await Eventually.HoldsAsync(async () =>
            {
                using var again = Export.WatchExport(watch, ExportSystem.As(owner));
                try
                {
                    return await again.ResponseStream.MoveNext(CancellationToken.None);
                }
                catch (RpcException error) when (error.StatusCode == StatusCode.ResourceExhausted)
                {
                    return false;
                }
            }, "a watch is allowed again after the others ended");

            var url = await FailsAsync(StatusCode.FailedPrecondition, async () => await Export.GetDownloadUrlAsync(new GetDownloadUrlRequest { ExportId = running.ExportId }, ExportSystem.As(owner)));
            Assert.Equal($"Export {running.ExportId} cannot be downloaded: it is running.", url.Status.Detail);
            await StreamFailsAsync(StatusCode.FailedPrecondition, () => Export.Download(new DownloadRequest { ExportId = running.ExportId }, ExportSystem.As(owner)));
            await FailsAsync(StatusCode.FailedPrecondition, async () => await Export.StartImportAsync(new StartImportRequest { ExportId = running.ExportId }, ExportSystem.As(owner)));

            // While an export runs, StartExport answers with it.
            Assert.Equal(running.ExportId, (await Export.StartExportAsync(new StartExportRequest(), ExportSystem.As(owner))).ExportId);

            var cancelled = await Export.CancelExportAsync(new GetExportRequest { ExportId = running.ExportId }, ExportSystem.As(owner));
            Assert.Contains(cancelled.State, new[] { JobState.Running, JobState.Cancelled });
        }
        finally
        {
            await System.StartRegistryAsync();
        }

        // s3rver answers the abort with 405; the job is cancelled all the same and no archive was completed.
        var final = await Seed.FinishedAsync(System, owner, running.ExportId, TimeSpan.FromSeconds(60));
        Assert.Equal(JobState.Cancelled, final.State);
        Assert.Null(await System.ExportService<IArchiveStorage>().SizeAsync(ArchiveKeys.Export(owner, running.ExportId), CancellationToken.None));
        await FailsAsync(StatusCode.FailedPrecondition, async () => await Export.CancelExportAsync(new GetExportRequest { ExportId = running.ExportId }, ExportSystem.As(owner)));
        await FailsAsync(StatusCode.FailedPrecondition, async () => await Export.GetDownloadUrlAsync(new GetDownloadUrlRequest { ExportId = running.ExportId }, ExportSystem.As(owner)));

        // The cancelled export gave the owner nothing, so the next one may start at once; after it, the window applies.
        var next = await Export.StartExportAsync(new StartExportRequest(), ExportSystem.As(owner));
        Assert.NotEqual(running.ExportId, next.ExportId);
        Assert.Equal(JobState.Completed, (await Seed.FinishedAsync(System, owner, next.ExportId)).State);
        await FailsAsync(StatusCode.ResourceExhausted, async () => await Export.StartExportAsync(new StartExportRequest(), ExportSystem.As(owner)));
    }

    [Fact]
    public async Task A_second_export_within_the_window_is_RESOURCE_EXHAUSTED_saying_when_the_next_is_allowed()
    {
        var last = fixture.Completed;
        var window = System.ExportService<ExportOptions>().Window;

        var error = await FailsAsync(StatusCode.ResourceExhausted, async () => await Export.StartExportAsync(new StartExportRequest(), ExportSystem.As("done")));

        var next = (last.CreatedAt.ToDateTimeOffset() + window).ToString("u", CultureInfo.InvariantCulture);
        Assert.Contains($"the next is allowed at {next}", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains(last.ExportId, error.Status.Detail, StringComparison.Ordinal);
        Assert.Single((await Export.ListExportsAsync(new ListExportsRequest(), ExportSystem.As("done"))).Exports);
    }

    /// <summary>The contract's default (export.proto: "Export:Window (default 24h)"), from the host's own appsettings.json.</summary>
    [Fact]
    public void The_default_window_is_24_hours()
    {
        Assert.Equal(TimeSpan.FromHours(24), System.ExportService<ExportOptions>().Window);
    }

    [Fact]
    public void A_finished_export_is_kept_7_days_by_default()
    {
        Assert.Equal(TimeSpan.FromDays(7), System.ExportService<ExportOptions>().Lifetime);
    }

    [Theory]
    [InlineData(7 * 24 * 3600 + 1)]
    [InlineData(30 * 24 * 3600)]
    [InlineData(-1)]
    public async Task A_download_url_lifetime_outside_0_to_7_days_is_INVALID_ARGUMENT(long seconds)
    {
        var request = new GetDownloadUrlRequest { ExportId = fixture.Completed.ExportId, ExpiresIn = Duration.FromTimeSpan(TimeSpan.FromSeconds(seconds)) };

        var error = await FailsAsync(StatusCode.InvalidArgument, async () => await Export.GetDownloadUrlAsync(request, ExportSystem.As("done")));

        Assert.Contains("expires_in", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("7 days", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_zero_download_url_lifetime_gives_the_default_15_minutes()
    {
        var request = new GetDownloadUrlRequest { ExportId = fixture.Completed.ExportId, ExpiresIn = new Duration() };

        var url = await Export.GetDownloadUrlAsync(request, ExportSystem.As("done"));

        Assert.InRange(url.ExpiresAt.ToDateTimeOffset() - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(14), TimeSpan.FromMinutes(15));
    }

    public static TheoryData<long, int> MalformedDurations => new()
    {
        { long.MaxValue, 0 },
        { 60, 1_000_000_000 },
        { 60, -5 },
    };

    [Theory]
    [MemberData(nameof(MalformedDurations))]
    public async Task A_malformed_download_url_lifetime_is_INVALID_ARGUMENT_naming_expires_in(long seconds, int nanos)
    {
        var request = new GetDownloadUrlRequest { ExportId = fixture.Completed.ExportId, ExpiresIn = new Duration { Seconds = seconds, Nanos = nanos } };

        var error = await FailsAsync(StatusCode.InvalidArgument, async () => await Export.GetDownloadUrlAsync(request, ExportSystem.As("done")));

        Assert.StartsWith("expires_in ", error.Status.Detail, StringComparison.Ordinal);
    }

    /// <summary>The sweeper can delete an archive between the job's check and the read: that is the archive expiring, not UNKNOWN.</summary>
    [Fact]
    public async Task A_download_whose_archive_is_gone_from_the_bucket_is_FAILED_PRECONDITION()
    {
        const string owner = "swept-mid-download";
        await Seed.ModelsAsync(System, owner, 1);
        var started = await Export.StartExportAsync(new StartExportRequest(), ExportSystem.As(owner));
        var done = await Seed.FinishedAsync(System, owner, started.ExportId);
        Assert.Equal(JobState.Completed, done.State);
        await System.ExportService<IArchiveStorage>().DeleteAsync(ArchiveKeys.Export(owner, done.ExportId), CancellationToken.None);

        var error = await StreamFailsAsync(StatusCode.FailedPrecondition, () => Export.Download(new DownloadRequest { ExportId = done.ExportId }, ExportSystem.As(owner)));

        Assert.Equal("the archive is gone (expired).", error.Status.Detail);
    }

    [Fact]
    public async Task A_StartExport_that_waits_too_long_for_the_owner_lock_is_ABORTED_saying_try_again()
    {
        const string owner = "lock-held";
        var leases = System.ExportService<Microservices.Caching.Coordination.ILeaseLockProvider>();
        await using var held = await leases.TryAcquireAsync($"export-owner:{owner}", TimeSpan.FromMinutes(1));
        Assert.NotNull(held);

        var error = await FailsAsync(StatusCode.Aborted, async () => await Export.StartExportAsync(new StartExportRequest(), ExportSystem.As(owner)));

        Assert.Contains("try again", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_download_url_of_exactly_7_days_is_given()
    {
        var request = new GetDownloadUrlRequest { ExportId = fixture.Completed.ExportId, ExpiresIn = Duration.FromTimeSpan(TimeSpan.FromDays(7)) };

        var url = await Export.GetDownloadUrlAsync(request, ExportSystem.As("done"));

        Assert.StartsWith("http", url.Url, StringComparison.Ordinal);
        Assert.InRange(url.ExpiresAt.ToDateTimeOffset() - DateTimeOffset.UtcNow, TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1), TimeSpan.FromDays(7));
    }

    [Theory]
    [InlineData(-1, "", "page_size must not be negative")]
    [InlineData(0, "abc", "page_token")]
    [InlineData(0, "-1", "page_token")]
    [InlineData(0, "99999999999", "page_token")]
    [InlineData(2, "1.5", "page_token")]
    public async Task A_bad_page_size_or_token_is_INVALID_ARGUMENT_naming_it(int pageSize, string pageToken, string named)
    {
        var error = await FailsAsync(StatusCode.InvalidArgument, async () =>
            await Export.ListExportsAsync(new ListExportsRequest { PageSize = pageSize, PageToken = pageToken }, ExportSystem.As("done")));

        Assert.Contains(named, error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartImport_without_a_source_is_INVALID_ARGUMENT_naming_the_fields()
    {
        var error = await FailsAsync(StatusCode.InvalidArgument, async () => await Export.StartImportAsync(new StartImportRequest { DryRun = true }, ExportSystem.As("importer")));

        Assert.Contains("archive_id, export_id or archive_url", error.Status.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ftp://example.com/archive.tar.gz")]
    [InlineData("file:///etc/passwd")]
    [InlineData("s3://exports/x.tar.gz")]
    [InlineData("/imports/x.tar.gz")]
    [InlineData("not a url")]
    public async Task An_archive_url_that_is_not_absolute_http_is_INVALID_ARGUMENT(string url)
    {
        var error = await FailsAsync(StatusCode.InvalidArgument, async () => await Export.StartImportAsync(new StartImportRequest { ArchiveUrl = url }, ExportSystem.As("importer")));

        Assert.Contains("archive_url", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_archive_id_and_another_owners_are_NOT_FOUND()
    {
        var unknown = Guid.NewGuid().ToString("N");
        var theirs = (await Archives.UploadAsync(System, "uploader", [1, 2, 3])).ArchiveId;

        foreach (var id in new[] { unknown, theirs })
        {
            var error = await FailsAsync(StatusCode.NotFound, async () => await Export.StartImportAsync(new StartImportRequest { ArchiveId = id }, ExportSystem.As("importer")));
            Assert.Equal($"No uploaded archive {id}.", error.Status.Detail);
        }
    }

    [Fact]
    public async Task UploadArchive_without_bytes_is_INVALID_ARGUMENT()
    {
        using (var none = Export.UploadArchive(ExportSystem.As("uploader")))
        {
            await none.RequestStream.CompleteAsync();
            Assert.Contains("empty", (await FailsAsync(StatusCode.InvalidArgument, async () => await none.ResponseAsync)).Status.Detail, StringComparison.Ordinal);
        }

        using var empty = Export.UploadArchive(ExportSystem.As("uploader"));
        await ServerEndedWrite.IgnoringRefusalAsync(async () =>
        {
            await empty.RequestStream.WriteAsync(new UploadArchiveRequest());
            await empty.RequestStream.WriteAsync(new UploadArchiveRequest { Chunk = ByteString.Empty });
            await empty.RequestStream.CompleteAsync();
        });
        Assert.Contains("chunk", (await FailsAsync(StatusCode.InvalidArgument, async () => await empty.ResponseAsync)).Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UploadArchive_over_MaxArchiveBytes_is_RESOURCE_EXHAUSTED_and_one_at_the_cap_is_stored()
    {
        var over = new byte[RpcStatusFixture.MaxArchiveBytes + 1];

        var error = await FailsAsync(StatusCode.ResourceExhausted, () => Archives.UploadAsync(System, "uploader", over));

        Assert.Contains($"Export:Import:MaxArchiveBytes ({RpcStatusFixture.MaxArchiveBytes} bytes)", error.Status.Detail, StringComparison.Ordinal);
        var atCap = await Archives.UploadAsync(System, "uploader", new byte[RpcStatusFixture.MaxArchiveBytes]);
        Assert.Equal(RpcStatusFixture.MaxArchiveBytes, atCap.SizeBytes);
        Assert.Equal(RpcStatusFixture.MaxArchiveBytes, await System.ExportService<IArchiveStorage>().SizeAsync(ArchiveKeys.Upload("uploader", atCap.ArchiveId), CancellationToken.None));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_archive_url_over_MaxArchiveBytes_fails_the_import_RESOURCE_EXHAUSTED_with_or_without_a_content_length(bool chunked)
    {
        var owner = chunked ? "url-chunked" : "url-sized";
        var data = new byte[RpcStatusFixture.MaxArchiveBytes + 100_000];
        new Random(3).NextBytes(data);
        var archive = RawTar.WithTarWriter(tar => tar.WriteEntry(RawTar.File($"data/{TestArchive.Sha256(data)}", data)));
        Assert.True(archive.Length > RpcStatusFixture.MaxArchiveBytes);
        using var server = new ArchiveHttpServer();
        var url = server.Serve("big.tar.gz", archive, chunked);

        var started = await Export.StartImportAsync(new StartImportRequest { ArchiveUrl = url }, ExportSystem.As(owner));
        var job = await Seed.ImportFinishedAsync(System, owner, started.ImportId, TimeSpan.FromMinutes(1));

        Archives.AssertFailed(job, "RESOURCE_EXHAUSTED", $"Export:Import:MaxArchiveBytes ({RpcStatusFixture.MaxArchiveBytes} bytes)");
        (await OwnerSnapshot.TakeAsync(System, owner)).AssertEmpty();
    }

    [Fact]
    public async Task An_archive_url_that_answers_404_fails_the_import_FAILED_PRECONDITION()
    {
        const string owner = "url-missing";
        using var server = new ArchiveHttpServer();

        var started = await Export.StartImportAsync(new StartImportRequest { ArchiveUrl = server.BaseUrl + "gone.tar.gz" }, ExportSystem.As(owner));
        var job = await Seed.ImportFinishedAsync(System, owner, started.ImportId, TimeSpan.FromMinutes(1));

        Archives.AssertFailed(job, "FAILED_PRECONDITION", "HTTP 404");
        (await OwnerSnapshot.TakeAsync(System, owner)).AssertEmpty();
    }

    [Theory]
    [InlineData(-1L)]
    [InlineData(long.MaxValue)]
    public async Task A_download_offset_outside_the_archive_is_INVALID_ARGUMENT(long offset)
    {
        var error = await StreamFailsAsync(StatusCode.InvalidArgument, () => Export.Download(new DownloadRequest { ExportId = fixture.Completed.ExportId, Offset = offset }, ExportSystem.As("done")));

        Assert.Contains("offset must be between 0 and the archive's size", error.Status.Detail, StringComparison.Ordinal);
    }
}
