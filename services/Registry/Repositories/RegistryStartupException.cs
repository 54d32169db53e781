namespace Microservices.Registry.Repositories;

/// <summary>The store can't be used and the service must not start; the message says why and what to do.</summary>
internal sealed class RegistryStartupException : Exception
{
    public RegistryStartupException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
