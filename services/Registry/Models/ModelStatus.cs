namespace Microservices.Registry.Models;

/// <summary>The legacy model.list statuses: READY (downloaded, stopped) and RUNNING (loaded).</summary>
internal enum ModelStatus
{
    Ready,
    Running,
}

internal static class ModelStatuses
{
    public static string ToStorage(this ModelStatus status) => status switch
    {
        ModelStatus.Ready => "READY",
        ModelStatus.Running => "RUNNING",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown status."),
    };

    public static ModelStatus FromStorage(string value) => value switch
    {
        "READY" => ModelStatus.Ready,
        "RUNNING" => ModelStatus.Running,
        _ => throw new InvalidDataException($"Unknown status '{value}' in the database."),
    };

    /// <summary>
    /// The legal transitions: READY → RUNNING (started) and RUNNING → READY (stopped).
    /// Setting the status a model already has is not a transition and is refused, so a
    /// caller that thinks it started a model learns that someone else already did.
    /// </summary>
    public static bool CanTransition(ModelStatus from, ModelStatus to) =>
        (from, to) is (ModelStatus.Ready, ModelStatus.Running) or (ModelStatus.Running, ModelStatus.Ready);
}
