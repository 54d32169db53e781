using Microservices.Blob.Tests.Support;

namespace Microservices.Blob.Tests.Service;

/// <summary>Settings the service cannot run with stop the host at start, naming the key and never echoing a secret.</summary>
public sealed class StartupRefusalTests
{
    [Theory]
    [InlineData("not base64 at all!")]
    [InlineData("c2hvcnQ=")]
    public async Task A_capability_key_that_is_not_base64_of_32_bytes_stops_the_host_naming_the_key_only(string key)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var host = await BlobHost.StartAsync(new() { ["Blob:Gateway:CapabilityKey"] = key });
        });

        Assert.Equal("Blob:Gateway:CapabilityKey must be base64 of at least 32 bytes (e.g. openssl rand -base64 32).", error.Message);
    }

    [Fact]
    public async Task A_gateway_without_a_capability_key_stops_the_host_unless_digest_only_reads_are_allowed()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var host = await BlobHost.StartAsync(new() { ["Blob:Gateway:CapabilityKey"] = null });
        });
        Assert.StartsWith("The gateway is on (Blob:Gateway:Port) but Blob:Gateway:CapabilityKey is not set", error.Message, StringComparison.Ordinal);

        await using var allowed = await BlobHost.StartAsync(new() { ["Blob:Gateway:CapabilityKey"] = null, ["Blob:Gateway:AllowDigestOnly"] = "true" });
    }

    [Fact]
    public async Task A_postgres_index_without_a_connection_string_stops_the_host_naming_the_key()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => BlobHost.StartAsync(new() { ["Blob:Index:Kind"] = "postgres" }));
        Assert.StartsWith("Blob:Index:Kind is 'postgres' but Blob:Index:ConnectionString is empty", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_index_kind_stops_the_host_naming_the_choices()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => BlobHost.StartAsync(new() { ["Blob:Index:Kind"] = "mysql" }));
        Assert.Equal("Blob:Index:Kind is 'mysql'; expected 'sqlite' (one instance) or 'postgres' (several replicas).", error.Message);
    }

    [Fact]
    public async Task An_unreachable_postgres_index_stops_the_host_without_echoing_its_password()
    {
        // Nothing listens on port 1: the start fails, and nothing it says carries the password.
        var error = await Assert.ThrowsAnyAsync<Exception>(() => BlobHost.StartAsync(new()
        {
            ["Blob:Index:Kind"] = "postgres",
            ["Blob:Index:ConnectionString"] = "Host=127.0.0.1;Port=1;Username=blob;Password=s3cret-pw;Timeout=2",
        }));
        Assert.DoesNotContain("s3cret-pw", error.ToString(), StringComparison.Ordinal);
    }
}
