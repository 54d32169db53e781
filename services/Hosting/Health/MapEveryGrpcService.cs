using Grpc.AspNetCore.HealthChecks;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Routing;

namespace Microservices.Hosting.Health;

/// <summary>
/// Gives every mapped gRPC service a health entry of its own name (besides ""), so a probe that
/// asks for "microservices.registry.v1.ModelRegistry" gets SERVING rather than NOT_FOUND. Runs
/// when the app maps the defaults, after its own services: the options are read (and frozen) by
/// the health publisher before the host's routes reach the DI endpoint source, so they cannot be
/// filled from there.
/// </summary>
internal static class MapEveryGrpcService
{
    public static void Into(GrpcHealthChecksOptions options, IEndpointRouteBuilder routes)
    {
        var names = routes.DataSources
            .SelectMany(source => source.Endpoints)
            .Select(endpoint => endpoint.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method.ServiceName)
            .OfType<string>()
            .Distinct(StringComparer.Ordinal);
        foreach (var name in names)
        {
            options.Services.Map(name, _ => true);
        }
    }
}
