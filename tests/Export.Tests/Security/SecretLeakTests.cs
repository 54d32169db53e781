using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Grpc.Core;
using Microservices.Export.Tests.Support;
using Microservices.Export.V1;
using Microservices.Registry.V1;
using Microservices.TestSupport;

namespace Microservices.Export.Tests.Security;

/// <summary>
/// A whole run of the three services, failures included, with every host logging from Debug up and
/// every span recorded; then both are searched for every secret the run used.
/// </summary>
public sealed partial class SecretLeakTests
{
    // Any JWT at all (ours, the export's delegated ones): none belongs in a log line or a span.
    [GeneratedRegex(@"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}")]
    private static partial Regex Jwt();

    [Fact]
    public async Task No_token_key_or_signature_appears_in_the_logs_or_spans_of_a_full_run()
    {
        var logs = new CapturedLogs();
        await using var system = await ExportSystem.StartAsync(ExportSystem.LoopbackArchiveUrls(), logs: logs);
        var alice = TestTokens.For("alice");
        var refused = new[] { TokenKind.Expired, TokenKind.WrongAudience, TokenKind.WrongIssuer, TokenKind.BadSignature }
            .Select(kind => TestTokens.Of(kind, "alice")!).ToList();

        // What works: seed, export, a download link, an import dry run from the export.
        await Seed.ModelsAsync(system, "alice", 3);
        await Seed.BlobsAsync(system, "alice", [100, 70_000], sensitive: true);
        var export = await system.Export.StartExportAsync(new StartExportRequest(), ExportSystem.With(alice));
        var finished = await Seed.FinishedAsync(system, "alice", export.ExportId);
        Assert.Equal(JobState.Completed, finished.State);
        var link = (await system.Export.GetDownloadUrlAsync(new GetDownloadUrlRequest { ExportId = export.ExportId }, ExportSystem.With(alice))).Url;
        var import = await system.Export.StartImportAsync(new StartImportRequest { ExportId = export.ExportId, DryRun = true }, ExportSystem.With(alice));
        await Seed.ImportFinishedAsync(system, "alice", import.ImportId);

        // What fails: every refused token on every service, another owner, an operator method, a bad URL.
        foreach (var token in refused)
        {
            await FailsAsync(() => system.Export.ListExportsAsync(new ListExportsRequest(), ExportSystem.With(token)).ResponseAsync);
            await FailsAsync(() => system.Registry.ListAsync(new ListModelsRequest(), ExportSystem.With(token)).ResponseAsync);
            await FailsAsync(() => system.Blob.ListBlobsAsync(new Blob.V1.ListBlobsRequest(), ExportSystem.With(token)).ResponseAsync);
        }

        var mallory = TestTokens.For("mallory");
        await FailsAsync(() => system.Export.GetExportAsync(new GetExportRequest { ExportId = export.ExportId }, ExportSystem.With(mallory)).ResponseAsync);
        await FailsAsync(() => system.Registry.ListAsync(new ListModelsRequest { Owner = "alice" }, ExportSystem.With(mallory)).ResponseAsync);
        await FailsAsync(() => system.Registry.BackupAsync(new BackupRequest(), ExportSystem.With(alice)).ResponseAsync);
        await FailsAsync(() => system.Export.StartImportAsync(new StartImportRequest { ArchiveUrl = "https://169.254.169.254/latest/meta-data" }, ExportSystem.With(alice)).ResponseAsync);

        var signature = Regex.Match(link, "X-Amz-Signature=([0-9a-f]+)").Groups[1].Value;
        var secrets = new Dictionary<string, string>
        {
            ["the HS256 key"] = TestTokens.HmacKey,
            ["the HS256 key (hex)"] = Convert.ToHexString(Convert.FromBase64String(TestTokens.HmacKey)),
            ["the blob master key"] = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()),
            ["the delegation private key"] = PemBody(TestTokens.DelegationKey.ExportPkcs8PrivateKeyPem()),
            ["the presigned URL's signature"] = signature,
            ["alice's token signature"] = alice.Split('.')[2],
            ["mallory's token signature"] = mallory.Split('.')[2],
        };
        for (var i = 0; i < refused.Count; i++)
        {
            secrets[$"refused token {i}"] = refused[i].Split('.')[2];
        }

        Assert.NotEmpty(signature);
        var texts = new Dictionary<string, string>
        {
            ["logs"] = string.Join('\n', logs.Lines),
            ["spans"] = SpanText(system),
        };
        Assert.True(logs.Lines.Count > 100, $"only {logs.Lines.Count} log lines: the capture is not working");
        Assert.Contains("was not authenticated", texts["logs"], StringComparison.Ordinal); // JwtBearer logged the refusals
        Assert.Contains(logs.Lines, l => l.Contains("IDX10223", StringComparison.Ordinal)); // the expired token's, with its exception
        foreach (var (where, text) in texts)
        {
            foreach (var (name, secret) in secrets)
            {
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"{name} appears in the {where}");
            }

            var jwt = Jwt().Match(text);
            Assert.False(jwt.Success, $"a JWT appears in the {where}: …{text[Math.Max(0, jwt.Index - 120)..Math.Min(text.Length, jwt.Index + 20)]}");
        }
    }

    private static async Task FailsAsync(Func<Task> call) => await Assert.ThrowsAsync<RpcException>(call);

    private static string PemBody(string pem) => string.Concat(pem.Split('\n').Where(l => !l.StartsWith("-----", StringComparison.Ordinal))).Trim()[..40];

    private static string SpanText(ExportSystem system)
    {
        var text = new StringBuilder();
        // A copy: the exporters may still be adding spans of the run's last calls.
        foreach (var span in SpanQueries.Snapshot(system))
        {
            text.Append(span.DisplayName).Append(' ').Append(span.StatusDescription).Append('\n');
            foreach (var tag in span.TagObjects)
            {
                text.Append(tag.Key).Append('=').Append(tag.Value).Append('\n');
            }

            foreach (var e in span.Events)
            {
                text.Append(e.Name).Append('\n');
                foreach (var tag in e.Tags)
                {
                    text.Append(tag.Key).Append('=').Append(tag.Value).Append('\n');
                }
            }
        }

        return text.ToString();
    }
}
