using Microservices.Registry.Repositories;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Microservices.Registry.Extensions;

internal static class RegistryHostRunner
{
    /// <summary>
    /// Runs the host until it stops. A store that must not be used (corrupt file, schema newer
    /// than the build, failed migration) ends the process with exit code 1 and one clear line,
    /// not an unhandled-exception stack trace; the database file is left as it was found.
    /// </summary>
    public static async Task<int> RunRegistryAsync(this WebApplication app)
    {
        // Taken up front: RunAsync disposes the container when start fails.
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Microservices.Registry");
        try
        {
            await app.RunAsync().ConfigureAwait(false);
            return 0;
        }
        catch (Exception e) when (StartupFailure(e) is { } failure)
        {
            logger.LogCritical("The registry refuses to start: {Reason}", failure.Message);
            await Console.Error.WriteLineAsync($"registry: refusing to start: {failure.Message}").ConfigureAwait(false);
            return 1;
        }
    }

    private static RegistryStartupException? StartupFailure(Exception e) => e switch
    {
        RegistryStartupException startup => startup,
        AggregateException aggregate => aggregate.InnerExceptions.Select(StartupFailure).FirstOrDefault(f => f is not null),
        _ => e.InnerException is { } inner ? StartupFailure(inner) : null,
    };
}
