using System.Collections.Concurrent;
using System.Text;
using Microservices.Caching.Connection;
using Microservices.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Microservices.Caching.Tests;

/// <summary>The cache tier against a TLS-only redis-server with an ACL user, the way a production Redis is reached.</summary>
public sealed class RedisTlsTests : IDisposable
{
    private readonly TestCertificates _pki = new();

    public void Dispose() => _pki.Dispose();

    private Dictionary<string, string?> Settings(RedisTlsServer server, string password = RedisTlsServer.Password) => new()
    {
        // The string names no secret: it can sit in a ConfigMap; the password comes from a Secret.
        ["Redis:ConnectionString"] = $"{server.Endpoint},ssl=true,user={RedisTlsServer.User}",
        ["Redis:Password"] = password,
        ["Redis:CaCertificatePath"] = _pki.CaPath,
        ["Redis:ClientCertificatePath"] = _pki.ClientCertificatePath,
        ["Redis:ClientKeyPath"] = _pki.ClientKeyPath,
    };

    [Fact]
    public async Task The_cache_works_over_tls_as_the_acl_user_with_a_client_certificate()
    {
        await using var server = await RedisTlsServer.StartAsync(_pki);
        await using var services = Services(Settings(server), out _);
        var redis = services.GetRequiredService<IConnectionMultiplexer>();
        await services.GetRequiredService<ITwoLevelCache>().SetAsync("k", Encoding.UTF8.GetBytes("v"));

        Assert.True(redis.IsConnected);
        Assert.Equal(RedisTlsServer.User, (string?)await redis.GetDatabase().ExecuteAsync("ACL", "WHOAMI"));
        Assert.Equal(Encoding.UTF8.GetBytes("v"), Stored.Payload(await redis.GetDatabase().GetBytesAsync("export:v1:k")));
        await Eventually.SubscribersAsync(redis, "export:v1:__invalidate", 1);
    }

    public static TheoryData<string> Refusals => ["server from another CA", "no client certificate", "wrong password"];

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task A_connection_the_server_or_the_client_must_refuse_never_connects(string refusal)
    {
        await using var server = await RedisTlsServer.StartAsync(_pki);
        var settings = Settings(server, refusal == "wrong password" ? "not-the-password-0815" : RedisTlsServer.Password);
        switch (refusal)
        {
            case "server from another CA":
                settings["Redis:CaCertificatePath"] = _pki.OtherCaPath;
                break;
            case "no client certificate":
                settings.Remove("Redis:ClientCertificatePath");
                settings.Remove("Redis:ClientKeyPath");
                break;
        }

        await using var services = Services(settings, out var logs);
        var redis = services.GetRequiredService<IConnectionMultiplexer>();
        var cache = services.GetRequiredService<ITwoLevelCache>();

        // The cache serves from the origin; Redis is never reached.
        Assert.Equal("origin", Encoding.UTF8.GetString((await cache.GetOrCreateAsync("k", _ => Task.FromResult<byte[]?>(Encoding.UTF8.GetBytes("origin"))))!));
        Assert.False(redis.IsConnected);
        var error = await Assert.ThrowsAnyAsync<RedisException>(() => redis.GetDatabase().PingAsync());

        // Neither the password tried nor the right one appears in what a host logs or is told.
        // (IConnectionMultiplexer.Configuration does hold it, by StackExchange.Redis' design: nothing may log that string.)
        foreach (var (what, text) in logs.Select(line => ("log", line)).Append(("error", error.ToString())).Append(("status", redis.GetStatus())))
        {
            Assert.False(text.Contains(RedisTlsServer.Password, StringComparison.Ordinal) || text.Contains("not-the-password-0815", StringComparison.Ordinal), $"{what} holds the password: {text}");
        }
    }

    public static TheoryData<string, string, string> Misconfigurations => new()
    {
        { "Redis:ConnectionString", "127.0.0.1:1,user=u", "Redis:CaCertificatePath, Redis:ClientCertificatePath or Redis:ClientKeyPath is set but the connection string does not enable TLS" },
        { "Redis:CaCertificatePath", "missing.pem", "Redis:CaCertificatePath: the file '" },
        { "Redis:ClientCertificatePath", "missing.pem", "Redis:ClientCertificatePath: the file '" },
        { "Redis:ClientKeyPath", "missing.key", "Redis:ClientKeyPath: the file '" },
    };

    [Theory]
    [MemberData(nameof(Misconfigurations))]
    public void A_tls_misconfiguration_fails_at_registration_naming_the_setting(string key, string value, string message)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Redis:ConnectionString"] = "127.0.0.1:1,ssl=true",
            ["Redis:CaCertificatePath"] = _pki.CaPath,
            ["Redis:ClientCertificatePath"] = _pki.ClientCertificatePath,
            ["Redis:ClientKeyPath"] = _pki.ClientKeyPath,
        };
        settings[key] = key == "Redis:ConnectionString" ? value : Path.Combine(_pki.Directory, value);

        var error = Assert.Throws<InvalidOperationException>(() =>
            new ServiceCollection().AddTwoLevelCache(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), "export"));
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Redis_Password_overrides_the_connection_string_and_the_string_without_it_names_no_secret()
    {
        var options = RedisConnection.Options("cache.internal:6380,ssl=true,user=alice,password=old", new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Redis:Password"] = "from-a-secret" }).Build());

        Assert.Equal("from-a-secret", options.Password);
        Assert.DoesNotContain("from-a-secret", options.ToString(includePassword: false), StringComparison.Ordinal);
    }

    /// <summary>The cache tier as a host registers it, started (so the connection warm-up logs), with its log lines kept.</summary>
    private static ServiceProvider Services(Dictionary<string, string?> settings, out ConcurrentQueue<string> logs)
    {
        var lines = new ConcurrentQueue<string>();
        logs = lines;
        var services = new ServiceCollection()
            .AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(new LinesLoggerProvider(lines)))
            .AddTwoLevelCache(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), "export")
            .BuildServiceProvider();
        foreach (var hosted in services.GetServices<IHostedService>())
        {
            hosted.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
        }

        return services;
    }

    private sealed class LinesLoggerProvider(ConcurrentQueue<string> lines) : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue(formatter(state, exception) + exception);

        public void Dispose()
        {
        }
    }
}
