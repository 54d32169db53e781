using System.Collections.Frozen;
using System.Diagnostics;
using Microservices.Grpc.Protocol;
using Microservices.Grpc.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microservices.Grpc.Server;

/// <summary>
/// Routes a request to its method and runs the call: protocol checks, the interceptor chain,
/// the handler, and one status at the end whatever happened.
/// </summary>
internal sealed partial class ServerCallDispatcher
{
    private readonly FrozenDictionary<string, ServerMethod> _methods;
    private readonly FrozenSet<string> _services;
    private readonly IServerInterceptor[] _interceptors;
    private readonly GrpcServerOptions _options;
    private readonly ILogger<ServerCallDispatcher> _logger;
    private readonly IServiceProvider _rootServices;

    public ServerCallDispatcher(
        IServiceProvider rootServices,
        GrpcServiceRegistrations registrations,
        IEnumerable<IServerInterceptor> interceptors,
        IOptions<GrpcServerOptions> options,
        ILogger<ServerCallDispatcher> logger)
    {
        _methods = registrations.Methods.ToFrozenDictionary(m => m.Path, StringComparer.Ordinal);
        _services = registrations.Services.Select(s => s.FullName).ToFrozenSet(StringComparer.Ordinal);
        _interceptors = interceptors.ToArray();
        _options = options.Value;
        _logger = logger;
        _rootServices = rootServices;
    }

    public RequestDelegate Middleware(RequestDelegate next) => context =>
    {
        var request = context.Request;
        if (_methods.TryGetValue(request.Path.Value ?? "", out var method))
        {
            return HandleAsync(context, method);
        }

        return GrpcHeaders.IsGrpcContentType(request.ContentType) ? HandleAsync(context, null) : next(context);
    };

    private async Task HandleAsync(HttpContext httpContext, ServerMethod? method)
    {
        var request = httpContext.Request;
        if (!HttpMethods.IsPost(request.Method) || !GrpcHeaders.IsGrpcContentType(request.ContentType))
        {
            RejectHttp(httpContext, StatusCodes.Status415UnsupportedMediaType,
                $"Content-Type '{request.ContentType}' is not supported; gRPC requires a POST of application/grpc.");
            return;
        }

        if (!HttpProtocol.IsHttp2(request.Protocol))
        {
            RejectHttp(httpContext, StatusCodes.Status426UpgradeRequired, $"Request protocol '{request.Protocol}' is not supported; gRPC requires HTTP/2.");
            return;
        }

        // Long-lived streams are limited per message (MaxReceiveMessageSize), not by Kestrel's
        // whole-body size or minimum data rate, which would cut uploads and idle Watch streams.
        DisableBodyLimits(httpContext);
        var started = Stopwatch.GetTimestamp();
        var path = request.Path.Value ?? "";
        var (serviceName, methodName) = method is null ? GrpcTelemetry.SplitPath(path) : (method.ServiceName, method.Descriptor.Name);
        using var call = ServerCall.Create(httpContext, _rootServices, path, _options, out var rejection);
        var activity = GrpcTelemetry.StartServer(serviceName, methodName, call);
        rejection ??= method is null ? Unimplemented(serviceName, methodName) : null;

        Status status;
        if (rejection is { } rejected)
        {
            status = rejected;
        }
        else
        {
            // Flows into the handler; it never leaks back out, since an async method's changes
            // to the ExecutionContext end with it.
            ServerCallContext.Current = call.Context;
            try
            {
                await RunAsync(method!, call, 0).ConfigureAwait(false);
                status = Status.Ok;
            }
            catch (Exception ex)
            {
                status = ToStatus(ex, call);
            }
        }

        await call.CompleteAsync(status).ConfigureAwait(false);
        GrpcTelemetry.Stop(activity, status);
        GrpcTelemetry.RecordServer(serviceName, methodName, status, Stopwatch.GetElapsedTime(started));
    }

    private Task RunAsync(ServerMethod method, ServerCall call, int interceptorIndex)
    {
        if (interceptorIndex == _interceptors.Length)
        {
            return method.InvokeAsync(call);
        }

        return _interceptors[interceptorIndex].InterceptAsync(call.Context, _ => RunAsync(method, call, interceptorIndex + 1));
    }

    private Status ToStatus(Exception exception, ServerCall call)
    {
        switch (exception)
        {
            case RpcException rpc:
                foreach (var entry in rpc.Trailers)
                {
                    call.Context.ResponseTrailers.Add(entry);
                }

                return rpc.Status;
            case OperationCanceledException or IOException when call.DeadlineExceeded:
                return new Status(StatusCode.DeadlineExceeded, "Deadline exceeded.");
            case OperationCanceledException or IOException when call.HttpContext.RequestAborted.IsCancellationRequested:
                return new Status(StatusCode.Cancelled, "The call was cancelled by the client.");
            default:
                // The detail stays in the log: never a stack trace on the wire.
                LogHandlerFailed(_logger, exception, call.Context.Method);
                return new Status(StatusCode.Unknown, "Exception was thrown by handler.");
        }
    }

    private Status Unimplemented(string service, string method) =>
        _services.Contains(service)
            ? new Status(StatusCode.Unimplemented, $"Method '{method}' is not implemented by service '{service}'.")
            : new Status(StatusCode.Unimplemented, $"Service '{service}' is not implemented.");

    private static void DisableBodyLimits(HttpContext context)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } maxSize)
        {
            maxSize.MaxRequestBodySize = null;
        }

        if (context.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } minRate)
        {
            minRate.MinDataRate = null;
        }
    }

    private static void RejectHttp(HttpContext context, int httpStatus, string message)
    {
        context.Response.StatusCode = httpStatus;
        context.Response.Headers[GrpcHeaders.Status] = ((int)StatusCode.Internal).ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.Headers[GrpcHeaders.Message] = StatusMessageEncoding.Encode(message);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "gRPC handler for {Method} threw")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, string method);
}
