namespace Microservices.Clients.Tests;

/// <summary>A misconfigured client fails when it is built, naming the setting, not at its first call.</summary>
public sealed class ClientOptionsTests
{
    [Theory]
    [InlineData("localhost:50052")]
    [InlineData("tcp://localhost:50052")]
    [InlineData("")]
    public void An_address_that_is_not_http_https_or_dns_is_refused(string address)
    {
        var error = Assert.Throws<InvalidOperationException>(() => GrpcChannels.Create(address));
        Assert.Contains("dns:///host:port", error.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(6)]
    public void MaxRetryAttempts_outside_1_to_5_is_refused(int attempts)
    {
        var error = Assert.Throws<InvalidOperationException>(
            () => GrpcChannels.Create(new GrpcClientOptions { Address = "http://127.0.0.1:1", MaxRetryAttempts = attempts }));
        Assert.Contains("MaxRetryAttempts", error.Message);
    }

    [Fact]
    public void A_DnsRefreshInterval_of_zero_is_refused_and_infinite_is_accepted()
    {
        var error = Assert.Throws<InvalidOperationException>(
            () => GrpcChannels.Create(new GrpcClientOptions { Address = "dns:///localhost:1", DnsRefreshInterval = TimeSpan.Zero }));
        Assert.Contains("DnsRefreshInterval", error.Message);

        using var channel = GrpcChannels.Create(new GrpcClientOptions { Address = "dns:///localhost:1", DnsRefreshInterval = Timeout.InfiniteTimeSpan });
    }
}
