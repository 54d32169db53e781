namespace Microservices.Hosting.Tests.Support;

/// <summary>Lets a test see what happened inside a handler: here, when its cancellation token fired.</summary>
internal sealed class CallObserver
{
    private readonly TaskCompletionSource<string> _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<string> HandlerCancelled => _cancelled.Task;

    public void OnHandlerCancelled(string method) => _cancelled.TrySetResult(method);
}
