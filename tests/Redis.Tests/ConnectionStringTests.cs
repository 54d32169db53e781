namespace Microservices.Redis.Tests;

public sealed class ConnectionStringTests
{
    [Fact]
    public void Parses_the_StackExchange_Redis_format()
    {
        var options = RedisOptions.Parse("cache.internal:6380,password=p@ss,user=alice,ssl=true,sslHost=redis.example,connectTimeout=1500,syncTimeout=250,defaultDatabase=3,abortConnect=false,name=blob");

        Assert.Equal(("cache.internal", 6380), Assert.Single(options.Endpoints));
        Assert.Equal("p@ss", options.Password);
        Assert.Equal("alice", options.User);
        Assert.True(options.Ssl);
        Assert.Equal("redis.example", options.SslHost);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), options.ConnectTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.CommandTimeout);
        Assert.Equal(3, options.DefaultDatabase);
        Assert.False(options.AbortOnConnectFail);
        Assert.Equal("blob", options.ClientName);
    }

    [Fact]
    public void Defaults_port_and_accepts_several_endpoints_and_ipv6()
    {
        var options = RedisOptions.Parse("localhost, [::1]:7000 ,10.0.0.1:7001");

        Assert.Equal([("localhost", 6379), ("::1", 7000), ("10.0.0.1", 7001)], options.Endpoints);
        Assert.True(options.AbortOnConnectFail);
    }

    [Theory]
    [InlineData("localhost,bogus=1", "bogus")]
    [InlineData("localhost:99999", "port")]
    [InlineData("password=x", "no endpoint")]
    [InlineData("localhost,ssl=maybe", "ssl")]
    public void Rejects_invalid_strings_naming_the_problem(string connectionString, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => RedisOptions.Parse(connectionString));
        Assert.Contains(expected, error.Message, StringComparison.OrdinalIgnoreCase);
    }
}
