using System.Collections.Concurrent;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microservices.Hosting.Security;
using Microsoft.Extensions.DependencyInjection;

namespace Microservices.Export.Tests.Support;

/// <summary>One authenticated call as the called service saw it, after it verified the token.</summary>
internal sealed record SeenCall(string Service, string Method, string Subject, string? Actor, string? JobId, IReadOnlySet<string> Scopes);

/// <summary>
/// Records, on the registry and blob hosts, who each call came from (<see cref="CallerExtensions.Caller"/>),
/// so a test can tell what identity the export called them with.
/// </summary>
internal sealed class CallerLog
{
    private readonly ConcurrentQueue<SeenCall> _calls = new();

    public IReadOnlyList<SeenCall> Calls => [.. _calls];

    public void RecordOn(IServiceCollection services, string service) =>
        services.Configure<GrpcServiceOptions>(o => o.Interceptors.Add<Recorder>(this, service));

    private void Record(string service, ServerCallContext context)
    {
        if (context.GetHttpContext().User.Identity?.IsAuthenticated != true)
        {
            return;
        }

        var caller = context.Caller();
        _calls.Enqueue(new SeenCall(service, context.Method, caller.Subject, caller.Actor, caller.JobId, caller.Scopes));
    }

    private sealed class Recorder(CallerLog log, string service) : Interceptor
    {
        public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
        {
            log.Record(service, context);
            return continuation(request, context);
        }

        public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
        {
            log.Record(service, context);
            return continuation(requestStream, context);
        }

        public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
        {
            log.Record(service, context);
            return continuation(request, responseStream, context);
        }

        public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
        {
            log.Record(service, context);
            return continuation(requestStream, responseStream, context);
        }
    }
}
