using Google.Protobuf;

namespace Microservices.Grpc.Client;

/// <summary>
/// A unary call that may take several attempts: each attempt is a fresh ClientCall, retried on
/// UNAVAILABLE when the call is idempotent and the channel's retry budget allows it. Headers,
/// status and trailers are those of the last attempt.
/// </summary>
internal sealed class RetryingUnaryCall<TRequest, TResponse> : ICallState
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    private readonly GrpcChannel _channel;
    private readonly Method<TRequest, TResponse> _method;
    private readonly CallOptions _options;
    private readonly TaskCompletionSource<Metadata> _headers = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ClientCall<TRequest, TResponse>? _current;

    public RetryingUnaryCall(GrpcChannel channel, Method<TRequest, TResponse> method, CallOptions options)
    {
        _channel = channel;
        _method = method;
        _options = options;
    }

    public Task<Metadata> ResponseHeadersAsync => _headers.Task;

    public Status GetStatus() => Current.GetStatus();

    public Metadata GetTrailers() => Current.GetTrailers();

    public void Dispose() => _current?.Dispose();

    public async Task<TResponse> RunAsync(TRequest request)
    {
        var retryable = _options.Idempotent ?? _method.IsIdempotent;
        for (var attempt = 1; ; attempt++)
        {
            _current?.Dispose();
            var call = _current = new ClientCall<TRequest, TResponse>(_channel, _method, _options);
            _ = call.ResponseHeadersAsync.ContinueWith(t => _headers.TrySetResult(t.Result), TaskContinuationOptions.OnlyOnRanToCompletion);
            try
            {
                var response = await call.UnaryAsync(request).ConfigureAwait(false);
                _channel.RetryBudget.OnSuccess();
                return response;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable)
            {
                _channel.RetryBudget.OnFailure();
                var backoff = _channel.RetryBudget.Backoff(attempt);
                var outOfTime = _options.Deadline is { } deadline && DateTime.UtcNow + backoff >= deadline;
                if (!retryable || attempt >= _channel.Options.Retry.MaxAttempts || !_channel.RetryBudget.CanRetry || outOfTime ||
                    _options.CancellationToken.IsCancellationRequested)
                {
                    throw;
                }

                await Task.Delay(backoff, _options.CancellationToken).ConfigureAwait(false);
            }
            finally
            {
                // Release the attempt's timer and token registrations; its status and trailers stay readable.
                call.Dispose();
            }
        }
    }

    private ClientCall<TRequest, TResponse> Current => _current ?? throw new InvalidOperationException("The call has not started.");
}
