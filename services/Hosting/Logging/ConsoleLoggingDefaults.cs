using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Microservices.Hosting.Logging;

/// <summary>
/// One line per entry with a UTC timestamp, so log collectors (kubectl logs, journald) keep
/// entries whole. Levels come from "Logging:LogLevel"; "Logging:Console:FormatterOptions" can
/// still override the format because it is applied after these defaults.
/// </summary>
internal static class ConsoleLoggingDefaults
{
    public static void AddServiceDefaultsConsole(this ILoggingBuilder logging, IServiceCollection services)
    {
        logging.ClearProviders();

        // Registered before AddSimpleConsole, whose configuration binding then runs after it.
        services.Configure<SimpleConsoleFormatterOptions>(options =>
        {
            options.SingleLine = true;
            options.UseUtcTimestamp = true;
            options.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            options.IncludeScopes = false;
        });
        logging.AddSimpleConsole();

        // Kestrel's one line per request repeats what the gRPC spans and metrics say;
        // "Logging:Console:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics" (a provider rule, so it wins) turns it back on.
        logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning);

        // Routing's two lines per request and grpc-dotnet's line per non-OK status say again what
        // the server span says (rpc.response.status_code); handler exceptions are still logged at Error.
        logging.AddFilter("Microsoft.AspNetCore.Routing.EndpointMiddleware", LogLevel.Warning);
        logging.AddFilter("Grpc.AspNetCore.Server.ServerCallHandler", LogLevel.Warning);
    }
}
