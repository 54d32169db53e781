using Microservices.Registry.Models;

namespace Microservices.Registry.Import;

/// <summary>One parsed, valid model.list line.</summary>
internal sealed record ImportRow(int LineNumber, NewModel Model);

/// <summary>A line that was not imported, and why (1-based line number).</summary>
internal sealed record ImportLineError(int LineNumber, string Reason);

internal enum ImportMode
{
    /// <summary>Good lines are imported; bad lines are reported.</summary>
    BestEffort,

    /// <summary>Any bad line: nothing is imported; the report lists the bad lines.</summary>
    AllOrNothing,
}

/// <summary>What the store did with the rows it was given.</summary>
internal sealed record StoreImportResult(
    bool Committed,
    IReadOnlyList<RegisteredModel> Created,
    int Unchanged,
    IReadOnlyList<ImportLineError> Conflicts);

/// <summary>The answer to ImportModelList and the CLI's import command.</summary>
internal sealed record ImportReport(
    bool Committed,
    int Imported,
    int Unchanged,
    int BlankLines,
    IReadOnlyList<ImportLineError> Errors);
