namespace Microservices.Registry.Models;

/// <summary>
/// A refused registry call, with a message a person can act on. The gRPC handler maps
/// <see cref="Kind"/> to the status code of the same number and <see cref="Exception.Message"/>
/// to grpc-message; nothing else of the exception goes on the wire.
/// </summary>
internal sealed class RegistryException : Exception
{
    public RegistryException(RegistryErrorKind kind, string message)
        : base(message)
    {
        Kind = kind;
    }

    public RegistryErrorKind Kind { get; }

    /// <summary>The field that broke a rule (InvalidArgument only).</summary>
    public string? Field { get; private init; }

    /// <summary>The rule the field broke (InvalidArgument only).</summary>
    public string? Rule { get; private init; }

    public static RegistryException InvalidArgument(string field, string rule) =>
        new(RegistryErrorKind.InvalidArgument, $"{field}: {rule}") { Field = field, Rule = rule };

    public static RegistryException ResourceExhausted(string message) =>
        new(RegistryErrorKind.ResourceExhausted, message);

    public static RegistryException NotFound(string owner, string what) =>
        new(RegistryErrorKind.NotFound, $"No model {what} for owner '{owner}'.");

    public static RegistryException AlreadyExists(string message) =>
        new(RegistryErrorKind.AlreadyExists, message);

    public static RegistryException FailedPrecondition(string message) =>
        new(RegistryErrorKind.FailedPrecondition, message);

    /// <summary>
    /// This InvalidArgument, about the model at <paramref name="index"/> of a call that carries
    /// many: "models[3].branch: must not contain whitespace … (model_id 'org/m.gguf')". A
    /// model_id that breaks its own rules is not repeated (it may be empty, huge or unprintable).
    /// </summary>
    public RegistryException ForModel(int index, string modelId)
    {
        if (Field is null || Rule is null)
        {
            return this;
        }

        var field = $"models[{index}].{Field}";
        return InvalidArgument(field, Field == "model_id" || !IsValidModelId(modelId) ? Rule : $"{Rule} (model_id '{modelId}')");
    }

    private static bool IsValidModelId(string modelId)
    {
        try
        {
            ModelRules.ModelId(modelId);
            return true;
        }
        catch (RegistryException)
        {
            return false;
        }
    }

    public static RegistryException StaleVersion(string modelId, long expected, long actual) =>
        new(RegistryErrorKind.Aborted,
            $"Model '{modelId}' is at version {actual}, not the expected {expected}: it was changed since it was read. Get it again and retry.");
}
