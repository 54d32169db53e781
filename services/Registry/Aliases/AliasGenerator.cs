namespace Microservices.Registry.Aliases;

/// <summary>
/// Generates alias candidates for a model id the way Cortex did, shortest first; the store
/// takes the first one no other model of the owner holds. For
/// <c>huggingface.co/bartowski/llama3.1-7b-gguf/Model_ID_Xxx.gguf</c>:
/// <list type="number">
/// <item><c>model_id_xxx</c> — the file name without its extension, lowercased;</item>
/// <item><c>llama3.1-7b-gguf:model_id_xxx</c> — prefixed with the parent folder;</item>
/// <item><c>bartowski:llama3.1-7b-gguf:model_id_xxx</c>, then
/// <c>huggingface.co:bartowski:llama3.1-7b-gguf:model_id_xxx</c> — more of the path;</item>
/// <item><c>model_id_xxx-2</c>, <c>model_id_xxx-3</c>, … — number suffixes, without end.</item>
/// </list>
/// Every candidate is lowercased, so aliases read the same whatever the hub's casing. An alias
/// the user chose is never generated over: generation only runs when none was given.
/// </summary>
internal static class AliasGenerator
{
    public static IEnumerable<string> Candidates(string modelId)
    {
        var segments = modelId.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length == 0)
        {
            segments = [modelId];
        }

        var fileName = StripExtension(segments[^1]).ToLowerInvariant();
        var candidate = fileName;
        yield return Truncate(candidate);

        for (var i = segments.Length - 2; i >= 0; i--)
        {
            candidate = segments[i].ToLowerInvariant() + ":" + candidate;
            yield return Truncate(candidate);
        }

        for (long n = 2; ; n++)
        {
            var suffix = "-" + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            yield return Truncate(fileName, Models.ModelRules.MaxAliasLength - suffix.Length) + suffix;
        }
    }

    private static string StripExtension(string fileName)
    {
        var dot = fileName.LastIndexOf('.');

        // ".hidden" or "name." keep their dot: stripping would leave nothing meaningful.
        return dot > 0 && dot < fileName.Length - 1 ? fileName[..dot] : fileName;
    }

    // Long paths keep their most specific (rightmost) part.
    private static string Truncate(string alias, int max = Models.ModelRules.MaxAliasLength)
    {
        if (alias.Length <= max)
        {
            return alias;
        }

        var start = alias.Length - max;

        // Never start on the second half of a surrogate pair.
        return char.IsLowSurrogate(alias[start]) ? alias[(start + 1)..] : alias[start..];
    }
}
