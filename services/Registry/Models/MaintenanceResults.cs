namespace Microservices.Registry.Models;

/// <summary>A backup the server wrote: its name (all a client is told) and where it is (for the server and tests).</summary>
internal sealed record BackupResult(string FileName, string FullPath, long SizeBytes);

internal sealed record IntegrityReport(bool Ok, IReadOnlyList<string> Messages);
