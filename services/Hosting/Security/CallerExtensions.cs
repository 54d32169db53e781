using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microservices.Hosting.Security;

public static class CallerExtensions
{
    /// <summary>The verified caller of this call (the authentication middleware has already refused a bad token).</summary>
    public static Caller Caller(this ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var http = context.GetHttpContext();
        var settings = http.RequestServices.GetRequiredService<IOptions<AuthSettings>>().Value;
        return Security.Caller.From(http.User, settings);
    }
}
