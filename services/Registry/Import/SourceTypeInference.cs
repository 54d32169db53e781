using Microservices.Registry.Models;

namespace Microservices.Registry.Import;

/// <summary>
/// model.list has no source column; the source is inferred from the other fields, first rule
/// that matches wins:
/// <list type="number">
/// <item>author_repo <c>local</c> and branch <c>imported</c> (what Cortex wrote for a model imported from a local file) → local;</item>
/// <item>model_id starting with <c>huggingface.co/</c> → huggingface;</item>
/// <item>model_id starting with <c>cortex.so/</c>, or author_repo starting with <c>cortexso/</c> (Cortex's hub organisation) → cortex.so;</item>
/// <item>author_repo of the form <c>author/repo</c> → huggingface (a Hugging Face repository);</item>
/// <item>anything else (a bare name like <c>tinyllama</c>) → cortex.so, where Cortex resolved bare names.</item>
/// </list>
/// Prefix comparisons ignore ASCII case.
/// </summary>
internal static class SourceTypeInference
{
    public static SourceType Infer(string modelId, string authorRepo, string branch)
    {
        if (authorRepo == "local" && branch == "imported")
        {
            return SourceType.Local;
        }

        if (modelId.StartsWith("huggingface.co/", StringComparison.OrdinalIgnoreCase))
        {
            return SourceType.HuggingFace;
        }

        if (modelId.StartsWith("cortex.so/", StringComparison.OrdinalIgnoreCase) || authorRepo.StartsWith("cortexso/", StringComparison.OrdinalIgnoreCase))
        {
            return SourceType.CortexSo;
        }

        var slash = authorRepo.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0 && slash < authorRepo.Length - 1 && authorRepo.IndexOf('/', slash + 1) < 0)
        {
            return SourceType.HuggingFace;
        }

        return SourceType.CortexSo;
    }
}
