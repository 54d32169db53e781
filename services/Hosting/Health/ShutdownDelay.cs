using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microservices.Hosting.Health;

/// <summary>
/// Holds the listener open for Hosting:ShutdownDelay after shutdown begins: ApplicationStopping has
/// already turned health NOT_SERVING, and every lifecycle service's StoppingAsync runs before any
/// hosted service (Kestrel included) is stopped.
/// </summary>
internal sealed class ShutdownDelay(IOptions<HostingSettings> settings) : IHostedLifecycleService
{
    public Task StoppingAsync(CancellationToken cancellationToken) =>
        settings.Value.ShutdownDelay > TimeSpan.Zero ? Task.Delay(settings.Value.ShutdownDelay, cancellationToken) : Task.CompletedTask;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
