namespace Microservices.Export.Jobs;

/// <summary>
/// Who a job's calls into registry and blob act for: the owner, within this one job. The calls
/// carry a token delegated for exactly this (see <see cref="Delegation.JobCredentials"/>).
/// </summary>
internal sealed record JobIdentity(string JobId, JobKind Kind, string Owner);
