using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microservices.TestSupport;

namespace Microservices.Registry.Tests.Grpc;

/// <summary>
/// Gives every test call a valid token for the owner the request names (its <c>owner</c> field),
/// so the tests written against owner fields keep testing what they did; a request without an
/// owner, and a client stream (its owner is in the first message), go as <see cref="DefaultOwner"/>.
/// A call that brings its own authorization header keeps it: that is how tests try other tokens.
/// </summary>
internal sealed class OwnerTokenInterceptor : Interceptor
{
    public const string DefaultOwner = "alice";

    public override TResponse BlockingUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, BlockingUnaryCallContinuation<TRequest, TResponse> continuation) =>
        continuation(request, WithToken(context, OwnerOf(request)));

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation) =>
        continuation(request, WithToken(context, OwnerOf(request)));

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncServerStreamingCallContinuation<TRequest, TResponse> continuation) =>
        continuation(request, WithToken(context, OwnerOf(request)));

    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context, AsyncClientStreamingCallContinuation<TRequest, TResponse> continuation) =>
        continuation(WithToken(context, DefaultOwner));

    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context, AsyncDuplexStreamingCallContinuation<TRequest, TResponse> continuation) =>
        continuation(WithToken(context, DefaultOwner));

    private static string OwnerOf<TRequest>(TRequest request) =>
        request is IMessage message && message.Descriptor.FindFieldByName("owner") is { } field && field.Accessor.GetValue(message) is string { Length: > 0 } owner
            ? owner
            : DefaultOwner;

    private static ClientInterceptorContext<TRequest, TResponse> WithToken<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context, string owner)
        where TRequest : class
        where TResponse : class
    {
        var headers = context.Options.Headers;
        if (headers?.Get("authorization") is not null)
        {
            return context;
        }

        var withToken = new Metadata();
        foreach (var entry in headers ?? [])
        {
            withToken.Add(entry);
        }

        // Owner fields are not validated by the token; an owner no token subject can be goes as the default.
        withToken.Add("authorization", "Bearer " + TestTokens.For(owner.Length <= 128 && owner.All(c => c > ' ' && c < 127) ? owner : DefaultOwner));
        return new ClientInterceptorContext<TRequest, TResponse>(context.Method, context.Host, context.Options.WithHeaders(withToken));
    }
}
