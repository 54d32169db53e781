using Grpc.Health.V1;
using Microservices.Grpc.Client;

namespace Microservices.Hosting.Tests.Support;

internal static class Health
{
    public static readonly Method<HealthCheckRequest, HealthCheckResponse> Check =
        Method<HealthCheckRequest, HealthCheckResponse>.Of(HealthReflection.Descriptor.Services[0], "Check");

    public static readonly Method<HealthCheckRequest, HealthCheckResponse> Watch =
        Method<HealthCheckRequest, HealthCheckResponse>.Of(HealthReflection.Descriptor.Services[0], "Watch");
}
