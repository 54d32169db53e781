using System.Text;
using Microservices.Registry.Models;

namespace Microservices.Registry.Import;

/// <summary>
/// Parses the legacy model.list: one model per line,
/// <c>model_id author_repo_id branch_name path_to_model_yaml model_alias status</c>, separated
/// by spaces (or tabs); status is READY or RUNNING, and older files have only the first five
/// fields (status then READY). Tolerated: a UTF-8 BOM, CRLF line endings, blank lines. Every
/// other problem is reported with its 1-based line number and the rest of the file still
/// parses: invalid UTF-8 (binary garbage), control characters, a wrong field count, an unknown
/// status, a field breaking the registry's rules, an id or alias repeated in the file.
/// </summary>
internal static class ModelListParser
{
    public const long MaxBytes = 64L * 1024 * 1024;

    /// <summary>
    /// A few kilobytes of compressed junk would otherwise become millions of error records (and a
    /// report no client could receive): past this many bad lines the file is refused as a whole.
    /// </summary>
    public const int MaxBadLines = 1000;

    /// <summary>
    /// The longest line the field limits allow is ~2,200 characters (ModelRules), at most 4 UTF-8
    /// bytes each; a longer line is refused before it is decoded, so one 64 MiB line cannot cost a 128 MiB string.
    /// </summary>
    public const int MaxLineBytes = 16 * 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static ParsedModelList Parse(ReadOnlySpan<byte> content, string owner)
    {
        if (content.StartsWith("\uFEFF"u8))
        {
            content = content[3..];
        }

        var rows = new List<ImportRow>();
        var errors = new List<ImportLineError>();
        var firstLineOfId = new Dictionary<string, int>(StringComparer.Ordinal);
        var firstLineOfAlias = new Dictionary<string, int>(StringComparer.Ordinal);
        var blank = 0;
        var lineNumber = 0;

        while (!content.IsEmpty)
        {
            if (errors.Count > MaxBadLines)
            {
                throw RegistryException.ResourceExhausted(
                    $"model.list: more than {MaxBadLines} bad lines (the first at line {errors[0].LineNumber}: {errors[0].Reason}); not a model.list, or fix it first");
            }

            lineNumber++;
            var end = content.IndexOf((byte)'\n');
            var lineBytes = end < 0 ? content : content[..end];
            content = end < 0 ? [] : content[(end + 1)..];
            if (lineBytes.EndsWith("\r"u8))
            {
                lineBytes = lineBytes[..^1];
            }

            if (lineBytes.Length > MaxLineBytes)
            {
                errors.Add(new ImportLineError(lineNumber, $"the line is {lineBytes.Length} bytes; a model.list line is at most {MaxLineBytes}"));
                continue;
            }

            string line;
            try
            {
                line = StrictUtf8.GetString(lineBytes);
            }
            catch (DecoderFallbackException)
            {
                errors.Add(new ImportLineError(lineNumber, "not valid UTF-8 text (binary data?)"));
                continue;
            }

            if (line.All(c => c is ' ' or '\t'))
            {
                blank++;
                continue;
            }

            if (ParseLine(line, owner, out var reason) is not { } model)
            {
                errors.Add(new ImportLineError(lineNumber, reason!));
                continue;
            }

            if (firstLineOfId.TryGetValue(model.ModelId, out var firstId))
            {
                errors.Add(new ImportLineError(lineNumber, $"model_id '{model.ModelId}' repeats line {firstId}"));
                continue;
            }

            if (model.Alias is { } alias && firstLineOfAlias.TryGetValue(alias, out var firstAlias))
            {
                errors.Add(new ImportLineError(lineNumber, $"alias '{alias}' repeats line {firstAlias}"));
                continue;
            }

            firstLineOfId[model.ModelId] = lineNumber;
            if (model.Alias is not null)
            {
                firstLineOfAlias[model.Alias] = lineNumber;
            }

            rows.Add(new ImportRow(lineNumber, model));
        }

        return new ParsedModelList(rows, errors, blank);
    }

    private static NewModel? ParseLine(string line, string owner, out string? reason)
    {
        reason = null;
        for (var i = 0; i < line.Length; i++)
        {
            if (char.IsControl(line[i]) && line[i] != '\t')
            {
                reason = $"control character U+{(int)line[i]:X4} at column {i + 1}";
                return null;
            }
        }

        var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length is not (5 or 6))
        {
            reason = $"expected 5 or 6 space-separated fields (model_id author_repo_id branch_name path_to_model_yaml model_alias [READY|RUNNING]), found {fields.Length}";
            return null;
        }

        var status = ModelStatus.Ready;
        if (fields.Length == 6)
        {
            switch (fields[5])
            {
                case "READY":
                    break;
                case "RUNNING":
                    status = ModelStatus.Running;
                    break;
                default:
                    reason = $"status must be READY or RUNNING, found '{fields[5]}'";
                    return null;
            }
        }

        try
        {
            var modelId = ModelRules.ModelId(fields[0]);
            var authorRepo = ModelRules.AuthorRepo(fields[1]);
            var branch = ModelRules.Branch(fields[2]);
            return new NewModel
            {
                Owner = owner,
                ModelId = modelId,
                AuthorRepo = authorRepo,
                Branch = branch,
                ConfigPath = ModelRules.ConfigPath(fields[3]),
                Alias = ModelRules.Alias(fields[4]),
                Status = status,
                SourceType = SourceTypeInference.Infer(modelId, authorRepo, branch),
            };
        }
        catch (RegistryException e)
        {
            reason = e.Message;
            return null;
        }
    }
}

internal sealed record ParsedModelList(IReadOnlyList<ImportRow> Rows, IReadOnlyList<ImportLineError> Errors, int BlankLines);
