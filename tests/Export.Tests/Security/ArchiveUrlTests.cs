using System.Net;
using Grpc.Core;
using Microservices.Export.Domain;
using Microservices.Export.Extensions;
using Microservices.Export.Import;
using Microservices.Export.Tests.BadInput;
using Microservices.Export.Tests.Support;
using Microservices.Export.V1;
using static Microservices.Export.Tests.Support.RpcAssert;

namespace Microservices.Export.Tests.Security;

/// <summary>
/// archive_url cannot make the export fetch what only it can reach: not plain http, not a host that
/// resolves to a loopback, private or link-local address (unless allowed by name), not a redirect.
/// The installation allows http and 127.0.0.1 for its own test servers, and nothing else.
/// </summary>
public sealed class ArchiveUrlTests(RpcStatusFixture fixture) : IClassFixture<RpcStatusFixture>
{
    [Theory]
    [InlineData("https://localhost/archive.tar.gz")]
    [InlineData("https://127.0.0.2/archive.tar.gz")]
    [InlineData("https://169.254.169.254/latest/meta-data/")]
    [InlineData("https://10.1.2.3/archive.tar.gz")]
    [InlineData("https://192.168.0.1/archive.tar.gz")]
    [InlineData("https://172.16.0.1/archive.tar.gz")]
    [InlineData("https://0.0.0.0/archive.tar.gz")]
    [InlineData("https://[::1]/archive.tar.gz")]
    [InlineData("https://[fe80::1]/archive.tar.gz")]
    [InlineData("https://[fd00::1]/archive.tar.gz")]
    [InlineData("https://[::ffff:127.0.0.1]/archive.tar.gz")]
    public async Task An_archive_url_whose_host_is_not_public_is_PERMISSION_DENIED_and_starts_no_import(string url)
    {
        const string owner = "ssrf";
        var error = await FailsAsync(StatusCode.PermissionDenied, async () => await fixture.System.Export.StartImportAsync(new StartImportRequest { ArchiveUrl = url }, ExportSystem.As(owner)));

        Assert.Contains("Export:Import:AllowedUrlHosts", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_redirect_is_not_followed_it_fails_the_import_INVALID_ARGUMENT()
    {
        const string owner = "url-redirect";
        using var server = new ArchiveHttpServer();
        var url = server.Redirect("moved.tar.gz", "http://169.254.169.254/latest/meta-data/");

        var started = await fixture.System.Export.StartImportAsync(new StartImportRequest { ArchiveUrl = url }, ExportSystem.As(owner));
        var job = await Seed.ImportFinishedAsync(fixture.System, owner, started.ImportId, TimeSpan.FromMinutes(1));

        Archives.AssertFailed(job, "INVALID_ARGUMENT", "redirects are not followed");
    }

    [Theory]
    [InlineData("http://example.com/a.tar.gz", "must be https")]
    [InlineData("https://user:secret@example.com/a.tar.gz", "user name or password")]
    [InlineData("ftp://example.com/a.tar.gz", "absolute http or https URL")]
    public void Without_AllowHttpUrls_only_https_without_credentials_is_accepted(string url, string message)
    {
        var policy = new ArchiveUrlPolicy(new ExportOptions());

        var error = Assert.Throws<ExportException>(() => policy.Parse(url));

        Assert.Equal(ExportErrorKind.InvalidArgument, error.Kind);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Equal("https", policy.Parse("https://example.com/a.tar.gz").Scheme);
    }

    [Fact]
    public async Task The_address_is_checked_again_when_the_connection_is_made()
    {
        // As a host that resolved to a public address at StartImport and to loopback afterwards (DNS rebinding) would be.
        var policy = new ArchiveUrlPolicy(new ExportOptions());
        var error = await Assert.ThrowsAsync<ExportException>(async () => await policy.ConnectAsync(new DnsEndPoint("localhost", 443), CancellationToken.None));

        Assert.Equal(ExportErrorKind.PermissionDenied, error.Kind);
    }

    [Theory]
    [InlineData("93.184.215.14", true)]
    [InlineData("2606:2800:21f:cb07:6820:80da:af6b:8b2c", true)]
    [InlineData("127.0.0.1", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("224.0.0.1", false)]
    [InlineData("255.255.255.255", false)]
    [InlineData("::", false)]
    [InlineData("::ffff:10.0.0.1", false)]
    [InlineData("ff02::1", false)]
    public void Only_public_unicast_addresses_are_public(string address, bool expected) =>
        Assert.Equal(expected, ArchiveUrlPolicy.IsPublic(IPAddress.Parse(address)));
}
