using Grpc.Core;
using Microservices.Blob.V1;
using Microservices.Export.Delegation;
using Microservices.Export.Jobs;
using Microservices.Export.Tests.Support;
using Microservices.Export.V1;
using Microservices.Registry.V1;
using Microservices.TestSupport;
using static Microservices.Export.Tests.Support.RpcAssert;
using JobKind = Microservices.Export.Jobs.JobKind;
using JobState = Microservices.Export.V1.JobState;

namespace Microservices.Export.Tests.Security;

/// <summary>
/// The export calls registry and blob with tokens delegated for one owner within one job: what the
/// called services saw of those calls, and what such a token cannot do.
/// </summary>
public sealed class DelegationTests
{
    private static readonly string[] ExportScopes = ["blob.read", "registry.read"];
    private static readonly string[] ImportScopes = ["blob.read", "blob.write", "registry.read", "registry.write"];

    [Fact]
    public async Task An_export_reads_and_an_import_writes_as_the_owner_within_its_own_job_only()
    {
        await using var system = await ExportSystem.StartAsync();
        await Seed.ModelsAsync(system, "ivy", 3);
        await Seed.BlobsAsync(system, "ivy", [100, 200]);

        var export = await system.Export.StartExportAsync(new StartExportRequest(), ExportSystem.As("ivy"));
        Assert.Equal(JobState.Completed, (await Seed.FinishedAsync(system, "ivy", export.ExportId)).State);
        var import = await system.Export.StartImportAsync(new StartImportRequest { ExportId = export.ExportId }, ExportSystem.As("ivy"));
        Assert.Equal(JobState.Completed, (await Seed.ImportFinishedAsync(system, "ivy", import.ImportId)).State);

        var delegated = system.Callers.Calls.Where(c => c.Actor is not null).ToList();
        var exported = delegated.Where(c => c.JobId == export.ExportId).ToList();
        var imported = delegated.Where(c => c.JobId == import.ImportId).ToList();
        Assert.Contains(exported, c => c.Service == "registry");
        Assert.Contains(exported, c => c.Service == "blob" && c.Method.EndsWith("/BatchRead", StringComparison.Ordinal));
        Assert.Contains(imported, c => c.Service == "registry" && c.Method.EndsWith("/ImportModels", StringComparison.Ordinal));
        Assert.Contains(imported, c => c.Service == "blob" && c.Method.EndsWith("/FindMissing", StringComparison.Ordinal));

        // Every call the export made was delegated to it by ivy, for one of these two jobs, scoped by the job's kind.
        Assert.Equal(delegated.Count, exported.Count + imported.Count);
        Assert.All(delegated, c => Assert.Equal(("ivy", "export"), (c.Subject, c.Actor)));
        Assert.All(exported, c => Assert.Equal(ExportScopes, c.Scopes.Order(StringComparer.Ordinal)));
        Assert.All(imported, c => Assert.Equal(ImportScopes, c.Scopes.Order(StringComparer.Ordinal)));
    }

    [Fact]
    public async Task A_token_minted_for_an_export_job_reads_but_cannot_write_nor_reach_another_owner_nor_the_export_service()
    {
        await using var system = await ExportSystem.StartAsync();
        await Seed.ModelsAsync(system, "ivy", 1);
        var token = system.ExportService<JobCredentials>().Token(new JobIdentity(Domain.ExportJobs.NewId(), JobKind.Export, "ivy"));
        var options = ExportSystem.With(token);

        Assert.Single((await system.Registry.ListAsync(new ListModelsRequest(), options)).Models);
        await system.Blob.ListBlobsAsync(new ListBlobsRequest(), options);

        var register = await FailsAsync(StatusCode.PermissionDenied, async () => await system.Registry.RegisterAsync(new RegisterModelRequest
        {
            ModelId = "hf.co/x/y.gguf", SourceType = SourceType.Huggingface, AuthorRepo = "x/y", Branch = "main", ConfigPath = "models/y.yaml",
        }, ExportSystem.With(token)));
        Assert.Contains("registry.write", register.Status.Detail, StringComparison.Ordinal);
        var upload = await FailsAsync(StatusCode.PermissionDenied, async () => await system.Blob.BatchUploadAsync(new BatchUploadRequest(), ExportSystem.With(token)));
        Assert.Contains("blob.write", upload.Status.Detail, StringComparison.Ordinal);
        await FailsAsync(StatusCode.PermissionDenied, async () => await system.Registry.DeleteAsync(new DeleteModelRequest { ModelId = "hf.co/m/model-00000.gguf" }, ExportSystem.With(token)));

        // The owner is the token's subject: naming another owner is refused.
        await FailsAsync(StatusCode.PermissionDenied, async () => await system.Registry.ListAsync(new ListModelsRequest { Owner = "mallory" }, ExportSystem.With(token)));

        // The export service trusts only owner tokens: a delegated one is not a way back in.
        await FailsAsync(StatusCode.Unauthenticated, async () => await system.Export.ListExportsAsync(new ListExportsRequest(), ExportSystem.With(token)));
    }

    [Fact]
    public void A_jobs_token_is_kept_while_more_than_RenewBefore_is_left_and_then_minted_again()
    {
        var clock = new SetClock(DateTimeOffset.UtcNow);
        var credentials = TestCredentials.Create(clock);
        var job = new JobIdentity(Domain.ExportJobs.NewId(), JobKind.Export, "ivy");
        var first = credentials.Token(job);

        clock.Now += TimeSpan.FromMinutes(7.9);
        Assert.Equal(first, credentials.Token(job));
        Assert.NotEqual(first, credentials.Token(job with { JobId = Domain.ExportJobs.NewId() }));

        clock.Now += TimeSpan.FromMinutes(0.2);
        var renewed = credentials.Token(job);
        Assert.NotEqual(first, renewed);

        var claims = new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().ReadJsonWebToken(renewed);
        Assert.Equal(TimeSpan.FromMinutes(10), claims.ValidTo - claims.IssuedAt);
        Assert.Equal(("ivy", job.JobId, "registry.read blob.read", TestTokens.DelegationIssuer), (claims.Subject, claims.GetClaim("job").Value, claims.GetClaim("scope").Value, claims.Issuer));
    }

    private sealed class SetClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
