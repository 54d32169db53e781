namespace Microservices.Registry.Models;

internal sealed record BackupResult(string DestinationPath, long SizeBytes);

internal sealed record IntegrityReport(bool Ok, IReadOnlyList<string> Messages);
