using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microservices.Hosting.Health;

/// <summary>
/// Holds the listener open for Hosting:ShutdownDelay after shutdown begins, with health already
/// NOT_SERVING: every lifecycle service's StoppingAsync runs before any hosted service (Kestrel
/// included) is stopped.
/// </summary>
internal sealed class ShutdownDelay(IOptions<HostingSettings> settings, IHostApplicationLifetime lifetime) : IHostedLifecycleService
{
    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        // The host fires ApplicationStopping only after StoppingAsync, so a stop that did not start
        // from StopApplication (SIGTERM does) would still look healthy during the delay. Firing it
        // here turns Check NOT_SERVING and ends every Watch with NOT_SERVING now; it is idempotent.
        lifetime.StopApplication();
        return settings.Value.ShutdownDelay > TimeSpan.Zero ? Task.Delay(settings.Value.ShutdownDelay, cancellationToken) : Task.CompletedTask;
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
