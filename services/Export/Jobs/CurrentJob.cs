namespace Microservices.Export.Jobs;

/// <summary>
/// The id of the job the current async flow works for, so log lines written deep in a job (a
/// retry, a storage call) name it: the console logger does not print scopes.
/// </summary>
internal static class CurrentJob
{
    private static readonly AsyncLocal<string?> Id = new();

    public static string? JobId => Id.Value;

    public static void Set(string jobId) => Id.Value = jobId;
}
