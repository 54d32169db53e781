using Google.Protobuf;
using Grpc.Core;
using Microservices.Export.Tests.Support;
using Microservices.Export.V1;
using Microservices.TestSupport;

namespace Microservices.Export.Tests.Security;

/// <summary>One installation where alice has a completed export and an import, shared by the matrix.</summary>
public sealed class MatrixInstallation : IAsyncLifetime
{
    internal ExportSystem System { get; private set; } = null!;

    internal string ExportId { get; private set; } = "";

    internal string ImportId { get; private set; } = "";

    public async Task InitializeAsync()
    {
        System = await ExportSystem.StartAsync(new() { ["Export:Window"] = "00:00:00" });
        await Seed.ModelsAsync(System, "alice", 2);
        ExportId = (await System.Export.StartExportAsync(new StartExportRequest(), ExportSystem.As("alice"))).ExportId;
        await Seed.FinishedAsync(System, "alice", ExportId);
        ImportId = (await System.Export.StartImportAsync(new StartImportRequest { ExportId = ExportId, DryRun = true }, ExportSystem.As("alice"))).ImportId;
        await Seed.ImportFinishedAsync(System, "alice", ImportId);
    }

    public async Task DisposeAsync() => await System.DisposeAsync();
}

/// <summary>
/// Every ExportService RPC × every kind of caller, each naming alice's export or import where the
/// RPC takes an id. The methods come from the service descriptor, so a new RPC without a case fails.
/// </summary>
public sealed class AuthorizationMatrixTests(MatrixInstallation installation) : IClassFixture<MatrixInstallation>
{
    // RPCs that name an id: anyone but alice must get NOT_FOUND (never a hint that it exists).
    private static readonly string[] ById = ["GetExport", "WatchExport", "CancelExport", "GetDownloadUrl", "Download", "GetImport", "WatchImport", "StartImport"];

    private static readonly Dictionary<string, Func<ExportService.ExportServiceClient, MatrixInstallation, CallOptions, Task>> Calls = new()
    {
        ["StartExport"] = async (c, i, o) => await c.StartExportAsync(new StartExportRequest(), o),
        ["GetExport"] = async (c, i, o) => await c.GetExportAsync(new GetExportRequest { ExportId = i.ExportId }, o),
        ["WatchExport"] = async (c, i, o) =>
        {
            using var call = c.WatchExport(new GetExportRequest { ExportId = i.ExportId }, o);
            await call.ResponseStream.MoveNext(CancellationToken.None);
        },
        ["ListExports"] = async (c, i, o) => await c.ListExportsAsync(new ListExportsRequest(), o),
        ["CancelExport"] = async (c, i, o) => await c.CancelExportAsync(new GetExportRequest { ExportId = i.ExportId }, o),
        ["GetDownloadUrl"] = async (c, i, o) => await c.GetDownloadUrlAsync(new GetDownloadUrlRequest { ExportId = i.ExportId }, o),
        ["Download"] = async (c, i, o) =>
        {
            using var call = c.Download(new DownloadRequest { ExportId = i.ExportId }, o);
            await call.ResponseStream.MoveNext(CancellationToken.None);
        },
        ["GetSigningKey"] = async (c, i, o) => await c.GetSigningKeyAsync(new GetSigningKeyRequest(), o),
        ["UploadArchive"] = async (c, i, o) =>
        {
            using var call = c.UploadArchive(o);
            await ServerEndedWrite.IgnoringRefusalAsync(async () =>
            {
                await call.RequestStream.WriteAsync(new UploadArchiveRequest { Chunk = ByteString.CopyFromUtf8("not an archive") });
                await call.RequestStream.CompleteAsync();
            });

            await call;
        },
        ["StartImport"] = async (c, i, o) => await c.StartImportAsync(new StartImportRequest { ExportId = i.ExportId, DryRun = true }, o),
        ["GetImport"] = async (c, i, o) => await c.GetImportAsync(new GetImportRequest { ImportId = i.ImportId }, o),
        ["WatchImport"] = async (c, i, o) =>
        {
            using var call = c.WatchImport(new GetImportRequest { ImportId = i.ImportId }, o);
            await call.ResponseStream.MoveNext(CancellationToken.None);
        },
    };

    public static TheoryData<string, TokenKind> Cases()
    {
        var data = new TheoryData<string, TokenKind>();
        foreach (var method in ExportService.Descriptor.Methods)
        {
            foreach (var kind in Enum.GetValues<TokenKind>())
            {
                data.Add(method.Name, kind);
            }
        }

        return data;
    }

    [Fact]
    public void Every_rpc_has_a_case() =>
        Assert.Equal(ExportService.Descriptor.Methods.Select(m => m.Name).Order(), Calls.Keys.Order());

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Each_rpc_admits_exactly_the_callers_it_should(string method, TokenKind kind)
    {
        var options = ExportSystem.With(TestTokens.Of(kind, "alice"));
        var status = await CallStatus.OfAsync(() => Calls[method](installation.System.Export, installation, options));
        switch (kind)
        {
            case TokenKind.None or TokenKind.Expired or TokenKind.WrongAudience or TokenKind.WrongIssuer or TokenKind.BadSignature:
                Assert.True(status.StatusCode == StatusCode.Unauthenticated, $"{method} as {kind}: {status}");
                break;
            case TokenKind.OtherOwner or TokenKind.Admin when ById.Contains(method):
                Assert.True(status.StatusCode == StatusCode.NotFound, $"{method} as {kind} on alice's id: {status}");
                break;
            default:
                // The caller's own: whatever the domain says (a completed export cannot be cancelled,
                // a second export may be over the window), but never refused as a caller.
                Assert.True(status.StatusCode is not (StatusCode.Unauthenticated or StatusCode.PermissionDenied or StatusCode.NotFound), $"{method} as {kind}: {status}");
                break;
        }

        // alice's export and import are still hers and unchanged.
        var export = await installation.System.Export.GetExportAsync(new GetExportRequest { ExportId = installation.ExportId }, ExportSystem.As("alice"));
        Assert.Equal(JobState.Completed, export.State);
    }

    [Fact]
    public async Task Another_owner_lists_nothing_of_alices()
    {
        var mine = await installation.System.Export.ListExportsAsync(new ListExportsRequest(), ExportSystem.As("alice"));
        Assert.Contains(mine.Exports, e => e.ExportId == installation.ExportId);
        var theirs = await installation.System.Export.ListExportsAsync(new ListExportsRequest(), ExportSystem.With(TestTokens.For("mallory")));
        Assert.DoesNotContain(theirs.Exports, e => e.ExportId == installation.ExportId);
    }
}
