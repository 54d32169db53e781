namespace Microservices.Grpc;

/// <summary>
/// A non-OK status. Handlers throw it to end a call with that status; clients receive it with
/// the code, message and trailers the server sent.
/// </summary>
public sealed class RpcException : Exception
{
    public RpcException(Status status, Metadata? trailers = null)
        : base(status.ToString())
    {
        Status = status;
        Trailers = trailers ?? [];
    }

    public RpcException(StatusCode code, string detail)
        : this(new Status(code, detail))
    {
    }

    public Status Status { get; }

    public StatusCode StatusCode => Status.Code;

    public Metadata Trailers { get; }
}
