using Microservices.Registry.Models;

namespace Microservices.Registry.Repositories;

/// <summary>Which fields of a registered model an import would change: the imports' test for "unchanged".</summary>
internal static class ModelDifferences
{
    /// <summary>
    /// The differing field names. A null incoming alias asks for none in particular and matches
    /// any; tags are compared only when the import carries them (model.list has none).
    /// </summary>
    public static List<string> Of(RegisteredModel registered, NewModel incoming, bool compareTags)
    {
        var differences = new List<string>();
        if (registered.SourceType != incoming.SourceType) differences.Add("source_type");
        if (registered.AuthorRepo != incoming.AuthorRepo) differences.Add("author_repo");
        if (registered.Branch != incoming.Branch) differences.Add("branch");
        if (registered.ConfigPath != incoming.ConfigPath) differences.Add("config_path");
        if (incoming.Alias is not null && registered.Alias != incoming.Alias) differences.Add("alias");
        if (registered.Status != incoming.Status) differences.Add("status");
        if (compareTags && !TagsEqual(registered.Tags, incoming.Tags)) differences.Add("tags");
        return differences;
    }

    public static bool TagsEqual(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b) =>
        a.Count == b.Count && a.All(pair => b.TryGetValue(pair.Key, out var value) && value == pair.Value);
}
