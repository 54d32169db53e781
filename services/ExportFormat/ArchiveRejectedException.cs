namespace Microservices.ExportFormat;

/// <summary>
/// The archive breaks a rule of the format; <see cref="Exception.Message"/> says which, naming the entry,
/// in words meant for the person who has to fix or replace the archive. Failures of the source stream
/// itself (network, disk) are not wrapped in this: they surface as they are, so a caller can retry them.
/// </summary>
public sealed class ArchiveRejectedException : Exception
{
    public ArchiveRejectedException(ArchiveRejection reason, string message, string? entryName = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Reason = reason;
        EntryName = entryName;
    }

    public ArchiveRejection Reason { get; }

    /// <summary>The entry at fault, when there is one.</summary>
    public string? EntryName { get; }
}
