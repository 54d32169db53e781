using Microservices.Registry.Models;

namespace Microservices.Registry.Import;

/// <summary>
/// Collects the models of one ImportModels call as its messages arrive: each validated as
/// Register validates (a refusal names models[i], the field and the model id), stamped with the
/// call's owner, its timestamps cut to the milliseconds the stores keep, ids and aliases unique
/// within the call; the limits are enforced per message, before the rest of the stream is read.
/// </summary>
internal sealed class ModelImportCollector(string owner)
{
    private readonly List<ModelToImport> _models = [];
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _aliases = new(StringComparer.Ordinal);

    public IReadOnlyList<ModelToImport> Models => _models;

    public void Add(IReadOnlyList<ModelToImport> message)
    {
        ModelImportLimits.EnsureMessageSize(message.Count);
        if (_models.Count + message.Count > ModelImportLimits.MaxModelsPerCall)
        {
            throw RegistryException.ResourceExhausted(
                $"An ImportModels call may carry at most {ModelImportLimits.MaxModelsPerCall} models; this one carried more. Nothing was imported.");
        }

        foreach (var model in message)
        {
            var index = _models.Count;
            NewModel valid;
            try
            {
                valid = ModelRules.NewModel(model.Model with { Owner = owner });
            }
            catch (RegistryException e) when (e.Field is not null)
            {
                throw e.ForModel(index, model.Model.ModelId);
            }

            if (!_ids.TryAdd(valid.ModelId, index))
            {
                throw RegistryException.InvalidArgument($"models[{index}].model_id", $"'{valid.ModelId}' is also models[{_ids[valid.ModelId]}]; a model_id may appear once per call");
            }

            if (valid.Alias is { } alias && !_aliases.TryAdd(alias, index))
            {
                throw RegistryException.InvalidArgument($"models[{index}].alias", $"'{alias}' is also the alias of models[{_aliases[alias]}]; an alias may appear once per call (model_id '{valid.ModelId}')");
            }

            _models.Add(new ModelToImport(valid, ToMilliseconds(model.CreatedAt), ToMilliseconds(model.UpdatedAt)));
        }
    }

    private static DateTimeOffset? ToMilliseconds(DateTimeOffset? time) =>
        time is { } t ? DateTimeOffset.FromUnixTimeMilliseconds(t.ToUnixTimeMilliseconds()) : null;
}
