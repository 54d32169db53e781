using System.Text;
using Grpc.Core;
using Microservices.Caching.RateLimiting;
using Microservices.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Microservices.Caching.Tests.RateLimiting;

/// <summary>AddOwnerRateLimits on real hosts over a real redis-server.</summary>
public sealed class OwnerRateLimitTests
{
    [Fact]
    public async Task A_burst_goes_through_then_the_owner_is_refused_with_the_limit_and_a_retry_after()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var host = await RateLimitedHost.StartAsync(RateLimitedHost.Limit(redis, permits: 2, period: "01:00:00", burst: 3));
        for (var i = 0; i < 3; i++)
        {
            Assert.Null(await host.CallAsync("alice"));
        }

        var refused = await host.CallAsync("alice");
        Assert.NotNull(refused);
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        var retryAfter = int.Parse(refused.Trailers.GetValue(OwnerRateLimitInterceptor.RetryAfterTrailer)!, System.Globalization.CultureInfo.InvariantCulture);

        // One token comes back every half hour.
        Assert.InRange(retryAfter, 1, 1800);
        Assert.Equal($"rate limit for EmptyCall: 2 per 1 h per owner; retry in {retryAfter} s", refused.Status.Detail);

        // A method without a limit is not counted.
        await host.Client.UnaryCallAsync(new Microservices.Testing.V1.SimpleRequest(), TestTokens.As("alice"));
    }

    [Fact]
    public async Task Two_replicas_share_one_budget_and_owners_do_not_share_theirs()
    {
        await using var redis = await RedisServer.StartAsync();
        var settings = RateLimitedHost.Limit(redis, permits: 2, period: "01:00:00");
        await using var first = await RateLimitedHost.StartAsync(settings);
        await using var second = await RateLimitedHost.StartAsync(settings);

        Assert.Null(await first.CallAsync("alice"));
        Assert.Null(await second.CallAsync("alice"));
        Assert.Equal(StatusCode.ResourceExhausted, (await first.CallAsync("alice"))?.StatusCode);
        Assert.Equal(StatusCode.ResourceExhausted, (await second.CallAsync("alice"))?.StatusCode);

        Assert.Null(await second.CallAsync("bob"));
        Assert.Null(await first.CallAsync("bob"));
        Assert.Equal(StatusCode.ResourceExhausted, (await first.CallAsync("bob"))?.StatusCode);
    }

    [Fact]
    public async Task A_job_acting_for_an_owner_with_a_delegated_token_is_not_counted_again()
    {
        await using var redis = await RedisServer.StartAsync();
        using var directory = new TempDirectory();
        var settings = TestTokens.SettingsWithDelegation(directory.Path);
        foreach (var (key, value) in RateLimitedHost.Limit(redis, permits: 1, period: "01:00:00"))
        {
            settings[key] = value;
        }

        await using var host = await RateLimitedHost.StartAsync(settings);
        Assert.Null(await host.CallAsync("alice"));
        Assert.Equal(StatusCode.ResourceExhausted, (await host.CallAsync("alice"))?.StatusCode);
        for (var i = 0; i < 3; i++)
        {
            Assert.Null(await host.CallWithAsync(TestTokens.Delegated("alice", "job-1", "blob.write")));
        }
    }

    [Fact]
    public async Task An_empty_bucket_fills_again_over_time()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var host = await RateLimitedHost.StartAsync(RateLimitedHost.Limit(redis, permits: 1, period: "00:00:01"));
        await Microservices.TestSupport.Eventually.HoldsAsync(async () => await host.CallAsync("alice") is { StatusCode: StatusCode.ResourceExhausted }, "alice's bucket is empty");
        await Microservices.TestSupport.Eventually.HoldsAsync(async () => await host.CallAsync("alice") is null, "a token came back");
    }

    [Fact]
    public async Task While_Redis_is_down_calls_go_through_by_default_and_are_refused_when_fail_open_is_off()
    {
        await using var redis = await RedisServer.StartAsync();
        var failOpen = RateLimitedHost.Limit(redis, permits: 1, period: "01:00:00");
        var failClosed = new Dictionary<string, string?>(failOpen) { ["RateLimits:FailOpen"] = "false" };
        await using var open = await RateLimitedHost.StartAsync(failOpen);
        await using var closed = await RateLimitedHost.StartAsync(failClosed);
        Assert.Null(await open.CallAsync("alice"));
        Assert.Equal(StatusCode.ResourceExhausted, (await closed.CallAsync("alice"))?.StatusCode);

        await redis.StopAsync();
        for (var i = 0; i < 3; i++)
        {
            Assert.Null(await open.CallAsync("alice"));
        }

        var refused = await closed.CallAsync("bob");
        Assert.Equal(StatusCode.Unavailable, refused?.StatusCode);
        Assert.Equal("rate limits for EmptyCall cannot be checked now (RateLimits:FailOpen is false); retry later", refused?.Status.Detail);

        // Back with an empty Redis: alice has a fresh budget, and it is enforced again.
        await redis.StartAgainAsync();
        await Microservices.TestSupport.Eventually.HoldsAsync(async () => await open.CallAsync("alice") is { StatusCode: StatusCode.ResourceExhausted }, "limits are enforced again");
    }

    [Fact]
    public async Task An_outage_is_logged_once_not_once_per_call()
    {
        await using var redis = await RedisServer.StartAsync();
        var warnings = new WarningLog();
        await using var host = await RateLimitedHost.StartAsync(RateLimitedHost.Limit(redis, permits: 1, period: "01:00:00"),
            builder => builder.Logging.AddProvider(warnings));
        await redis.StopAsync();
        for (var i = 0; i < 5; i++)
        {
            Assert.Null(await host.CallAsync("alice"));
        }

        Assert.Single(warnings.Messages, m => m.StartsWith("Per-owner rate limits cannot be checked", StringComparison.Ordinal));
    }

    /// <summary>The warnings the rate limiter logs.</summary>
    private sealed class WarningLog : ILoggerProvider, ILogger
    {
        public System.Collections.Concurrent.ConcurrentQueue<string> Messages { get; } = new();

        public ILogger CreateLogger(string categoryName) => categoryName == typeof(OwnerRateLimitInterceptor).FullName ? this : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                Messages.Enqueue(formatter(state, exception));
            }
        }

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task Without_Redis_the_budget_is_the_process_own()
    {
        var settings = TestTokens.Settings();
        settings["RateLimits:Methods:TestService.EmptyCall:PermitsPerPeriod"] = "1";
        settings["RateLimits:Methods:TestService.EmptyCall:Period"] = "01:00:00";
        await using var host = await RateLimitedHost.StartAsync(settings);
        Assert.Null(await host.CallAsync("alice"));
        var refused = await host.CallAsync("alice");
        Assert.Equal(StatusCode.ResourceExhausted, refused?.StatusCode);
        Assert.StartsWith("rate limit for EmptyCall: 1 per 1 h per owner; retry in ", refused?.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Methods_bind_from_json_by_full_name_and_from_environment_shaped_keys()
    {
        const string json = """
            { "RateLimits": { "Methods": {
              "/microservices.export.v1.ExportService/StartExport": { "PermitsPerPeriod": 1, "Period": "06:00:00" },
              "ImportService/StartImport": { "PermitsPerPeriod": 2, "Period": "1.00:00:00", "Burst": 4 } } } }
            """;
        var configuration = new ConfigurationBuilder()
            .AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json)))
            // RateLimits__Methods__BlobService.OffloadTrace__PermitsPerPeriod=60, as the environment provider reads it.
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["RateLimits:Methods:BlobService.OffloadTrace:PermitsPerPeriod"] = "60",
                ["RateLimits:Methods:BlobService.OffloadTrace:Period"] = "00:01:00",
            })
            .Build();
        var limits = OwnerRateLimitRegistration.Limits(configuration.GetSection(OwnerRateLimitSettings.SectionName).Get<OwnerRateLimitSettings>()!);
        Assert.Equal(["BlobService.OffloadTrace", "ExportService.StartExport", "ImportService.StartImport"], limits.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(TimeSpan.FromHours(6), limits["ExportService.StartExport"].Period);
        Assert.Equal(4, limits["ImportService.StartImport"].Capacity);
        Assert.Equal(60, limits["BlobService.OffloadTrace"].Capacity);
    }

    [Theory]
    [InlineData("PermitsPerPeriod", "0", "RateLimits:Methods:TestService.EmptyCall:PermitsPerPeriod")]
    [InlineData("Burst", "0", "RateLimits:Methods:TestService.EmptyCall:Burst")]
    [InlineData("Period", "00:00:00", "RateLimits:Methods:TestService.EmptyCall:Period")]
    public void A_bad_limit_fails_registration_naming_its_key(string field, string value, string named)
    {
        var settings = new Dictionary<string, string?>
        {
            ["RateLimits:Methods:TestService.EmptyCall:PermitsPerPeriod"] = "1",
            ["RateLimits:Methods:TestService.EmptyCall:Period"] = "00:01:00",
            [$"RateLimits:Methods:TestService.EmptyCall:{field}"] = value,
        };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var error = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddOwnerRateLimits(configuration));
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }
}
