using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Grpc.Core;
using Microservices.Export.Extensions;
using Microservices.Export.Jobs;
using Microservices.Export.Signing;
using Microservices.Export.Storage;
using Microservices.ExportFormat;

namespace Microservices.Export.Import;

/// <summary>
/// Imports an archive in up to three reads of the stream, never extracted to disk (an archive at a URL
/// is first copied into the bucket, and read from there). The first verifies it
/// whole (names, types, caps, every sha256, the signature); the second re-checks each entry against
/// that verified manifest before using it: the models are checked by a dry run of the registry's
/// import (conflicts end it here, before anything is written), then the blobs the owner lacks are
/// uploaded. Only then does a third, short read (models are the first entries) commit the models in
/// one transaction, and after that the references are added; so a failed import leaves at most
/// unreferenced blobs, which garbage collection removes.
/// </summary>
internal sealed class ImportRunner(
    IImportTarget target,
    ArchiveSources sources,
    ExportSigningKey signingKey,
    ExportOptions options)
{
    /// <summary>The blob service's FindMissing limit.</summary>
    private const int FindMissingPerCall = 10_000;

    private static readonly IReadOnlyDictionary<string, string> NoLabels = new Dictionary<string, string>();

    public async Task RunAsync(RunningJob job, CancellationToken cancellationToken)
    {
        string? fetched = null;
        try
        {
            if (job.Record.Source?.Kind == ImportSourceKind.Url)
            {
                await Progress(job, "fetching", cancellationToken).ConfigureAwait(false);
                fetched = await sources.FetchAsync(job.Record, cancellationToken).ConfigureAwait(false);
            }

            await ImportAsync(job, fetched, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (fetched is not null)
            {
                await sources.DeleteFetchedAsync(fetched).ConfigureAwait(false);
            }
        }
    }

    private async Task ImportAsync(RunningJob job, string? fetched, CancellationToken cancellationToken)
    {
        var dryRun = job.Record.DryRun;
        await Progress(job, "verifying", cancellationToken).ConfigureAwait(false);
        var limits = options.Import.Limits;
        var trusted = TrustedKeys();
        VerifiedArchive verified;
        try
        {
            await using var first = await sources.OpenAsync(job.Record, fetched, cancellationToken).ConfigureAwait(false);
            verified = await ArchiveVerifier.VerifyAsync(first, trusted, options.Import.RequireSignature, limits, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            foreach (var key in trusted)
            {
                key.Dispose();
            }
        }

        var manifest = verified.Manifest;
        var report = new ImportReportRecord
        {
            SignatureVerified = verified.SignatureVerified,
            SigningKeyId = verified.SigningKeyId,
            OriginInstallation = manifest.Installation,
            OriginOwner = manifest.Owner,
            Models = manifest.Counts.Models,
            Blobs = manifest.Counts.Blobs,
            References = manifest.Counts.References,
        };
        await job.SaveAsync(job.Record with
        {
            Report = report,
            Progress = job.Record.Progress with { Phase = "models", ItemsTotal = manifest.Counts.Models + manifest.Counts.Blobs + manifest.Counts.References, BytesTotal = manifest.Counts.BlobBytes },
        }, cancellationToken).ConfigureAwait(false);

        var cursor = new ManifestCursor(verified);
        await using var second = await sources.OpenAsync(job.Record, fetched, cancellationToken).ConfigureAwait(false);
        await using var reader = new ArchiveReader(second, limits);
        var state = new ImportState(job, cursor, reader, report, manifest.MissingBlobs.ToHashSet(StringComparer.Ordinal));

        // Pass 2 only checks the models (a dry run), so nothing that fails later can leave them imported.
        var (result, pending) = await SendModelsAsync(state, dryRun: true, countItems: true, cancellationToken).ConfigureAwait(false);
        state.Report = WithModels(state.Report, result);
        if (result.ConflictCount > 0 && !dryRun)
        {
            await job.SaveAsync(job.Record with { Report = state.Report }, cancellationToken).ConfigureAwait(false);
            throw Conflicts(result, "nothing was imported. Run a dry run to see them all.");
        }

        await Progress(job, "blobs", cancellationToken).ConfigureAwait(false);
        var references = await WriteBlobsAsync(state, pending, dryRun, cancellationToken).ConfigureAwait(false);
        cursor.Complete();
        var usable = references.Where(r => !state.Missing.Contains(ArchiveLines.Reference(r).Digest?.Hash ?? "")).ToList();
        await RequireReferencedBlobsAsync(state, usable, cancellationToken).ConfigureAwait(false);

        if (!dryRun)
        {
            // Pass 3, once every blob is in: the models are committed. They are the archive's first
            // entries, so this read stops at the first entry that is not a model.
            await Progress(job, "models", cancellationToken).ConfigureAwait(false);
            await using var third = await sources.OpenAsync(job.Record, fetched, cancellationToken).ConfigureAwait(false);
            await using var modelReader = new ArchiveReader(third, limits);
            var commit = new ImportState(job, new ManifestCursor(verified), modelReader, state.Report, state.Missing);
            var (committed, next) = await SendModelsAsync(commit, dryRun: false, countItems: false, cancellationToken).ConfigureAwait(false);
            next?.Dispose();
            state.Report = WithModels(state.Report, committed);
            if (committed.ConflictCount > 0)
            {
                await job.SaveAsync(job.Record with { Report = state.Report }, cancellationToken).ConfigureAwait(false);
                throw Conflicts(committed, "the owner's models changed while the import ran; no model was imported and its blobs are left unreferenced.");
            }

            await Progress(job, "references", cancellationToken).ConfigureAwait(false);
            state.Report = state.Report with { ReferencesAdded = await target.AddReferencesAsync(job.Record.Identity, usable, cancellationToken).ConfigureAwait(false) };
        }

        await job.SaveAsync(job.Record with
        {
            Report = state.Report,
            Progress = job.Record.Progress with { Phase = "completed", ItemsDone = job.Record.Progress.ItemsTotal, BytesDone = state.BytesDone },
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Streams the model entries into one ImportModels call as they are read; returns its result and
    /// the first entry that is not a model (or null at the end).
    /// </summary>
    private async Task<(ModelImportResult Result, ArchiveEntryData? Pending)> SendModelsAsync(ImportState state, bool dryRun, bool countItems, CancellationToken cancellationToken)
    {
        var pages = Channel.CreateBounded<IReadOnlyList<string>>(4);
        var models = target.ImportModelsAsync(state.Job.Record.Identity, dryRun, pages.Reader.ReadAllAsync(cancellationToken), cancellationToken);

        // A registry that refuses the call stops reading: the feeder must not wait for room forever.
        _ = models.ContinueWith(_ => pages.Writer.TryComplete(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        ArchiveEntryData? pending;
        try
        {
            pending = await FeedModelsAsync(state, pages.Writer, countItems, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error)
        {
            // Ending the channel with the error fails the call; ending it cleanly would send it as if every model had been read.
            pages.Writer.TryComplete(error);
            if (error is ChannelClosedException && models.IsFaulted)
            {
                await models.ConfigureAwait(false);
            }

            await ((Task)models).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw;
        }

        pages.Writer.TryComplete();
        try
        {
            return (await models.ConfigureAwait(false), pending);
        }
        catch
        {
            pending?.Dispose();
            throw;
        }
    }

    private static async Task<ArchiveEntryData?> FeedModelsAsync(ImportState state, ChannelWriter<IReadOnlyList<string>> pages, bool countItems, CancellationToken cancellationToken)
    {
        while (await state.NextAsync(cancellationToken).ConfigureAwait(false) is { } entry)
        {
            if (entry.Kind != ArchiveEntryKind.Models)
            {
                return entry;
            }

            using (entry)
            {
                var lines = Lines(entry);
                await pages.WriteAsync(lines, cancellationToken).ConfigureAwait(false);
                state.ItemsDone += countItems ? lines.Count : 0;
            }
        }

        return null;
    }

    private static ImportReportRecord WithModels(ImportReportRecord report, ModelImportResult result) => report with
    {
        ModelsImported = result.Imported,
        ModelsUnchanged = result.Unchanged,
        Conflicts = result.Conflicts,
        ConflictCount = result.ConflictCount,
    };

    private static ImportRefusedException Conflicts(ModelImportResult result, string consequence) => new(
        StatusCode.FailedPrecondition,
        $"{result.ConflictCount} model(s) conflict with the owner's models (first: {result.Conflicts[0].ModelId}: {result.Conflicts[0].Message}); {consequence}");

    /// <summary>Blob metadata, references (kept for the end) and blob bytes; returns the references.</summary>
    private async Task<List<string>> WriteBlobsAsync(ImportState state, ArchiveEntryData? entry, bool dryRun, CancellationToken cancellationToken)
    {
        var blobs = new Dictionary<string, ImportBlob>(StringComparer.Ordinal);
        var references = new List<string>();
        var small = new List<(ImportBlob Blob, ReadOnlyMemory<byte> Data)>();
        long smallBytes = 0;
        ChunkedBlob? current = null;

        while (entry is not null)
        {
            using (entry)
            {
                switch (entry.Kind)
                {
                    case ArchiveEntryKind.Blobs:
                        foreach (var line in Lines(entry))
                        {
                            var blob = ArchiveLines.Blob(line);
                            blobs[blob.Hash] = blob;
                        }

                        break;
                    case ArchiveEntryKind.References:
                        var lines = Lines(entry);
                        references.AddRange(lines);
                        state.ItemsDone += lines.Count;
                        break;
                    case ArchiveEntryKind.Data:
                        var (hash, chunk) = ArchiveLayout.ParseData(entry.Name);
                        if (state.Missing.Contains(hash))
                        {
                            break;
                        }

                        var described = blobs.TryGetValue(hash, out var known) ? known : throw new ArchiveRejectedException(ArchiveRejection.BadManifest, $"entry '{entry.Name}' holds bytes of a blob the archive's metadata does not describe", entry.Name);
                        current = ChunkedBlob.Accept(current, described, chunk, entry);
                        state.WithData.Add(hash);
                        state.BytesDone += entry.Size;
                        if (current is null)
                        {
                            if (smallBytes + entry.Size > target.BatchUploadBytes)
                            {
                                await FlushSmallAsync(state, small, dryRun, cancellationToken).ConfigureAwait(false);
                                smallBytes = 0;
                            }

                            // The entry's buffer is returned when it is disposed: the batch keeps a copy.
                            small.Add((described, entry.Data.ToArray()));
                            smallBytes += entry.Size;
                            break;
                        }

                        if (chunk == 0)
                        {
                            var missing = await target.FindMissingAsync(state.Job.Record.Identity, [described], cancellationToken).ConfigureAwait(false);
                            CountBlob(state, present: missing.Count == 0);
                            current.Upload = dryRun || missing.Count == 0 ? null : await target.StartUploadAsync(state.Job.Record.Identity, described, cancellationToken).ConfigureAwait(false);
                        }

                        if (current.Upload is not null)
                        {
                            await current.Upload.WriteAsync((long)chunk * ArchiveLayout.DataChunkSize, entry.Data, current.Complete, cancellationToken).ConfigureAwait(false);
                        }

                        current = current.Complete ? null : current;
                        break;
                }
            }

            await state.ReportAsync(cancellationToken).ConfigureAwait(false);
            entry = await state.NextAsync(cancellationToken).ConfigureAwait(false);
        }

        if (current is not null)
        {
            throw current.Incomplete("the archive ends");
        }

        await FlushSmallAsync(state, small, dryRun, cancellationToken).ConfigureAwait(false);
        return references;
    }

    /// <summary>
    /// A reference may name only a blob the archive brings or the owner holds. AddReferences would
    /// refuse any other after the models were committed, so it is refused before (dry run included).
    /// </summary>
    private async Task RequireReferencedBlobsAsync(ImportState state, IReadOnlyList<string> references, CancellationToken cancellationToken)
    {
        var elsewhere = references
            .Select(ArchiveLines.Reference)
            .Where(r => !state.WithData.Contains(r.Digest?.Hash ?? ""))
            .DistinctBy(r => r.Digest?.Hash ?? "", StringComparer.Ordinal)
            .ToList();
        foreach (var batch in elsewhere.Chunk(FindMissingPerCall))
        {
            var missing = await target.FindMissingAsync(
                state.Job.Record.Identity,
                [.. batch.Select(r => new ImportBlob(r.Digest?.Hash ?? "", r.Digest?.SizeBytes ?? 0, false, NoLabels))],
                cancellationToken).ConfigureAwait(false);
            if (batch.FirstOrDefault(r => missing.Contains(r.Digest?.Hash ?? "")) is { } dangling)
            {
                throw new ImportRefusedException(StatusCode.InvalidArgument,
                    $"reference (trace_id '{dangling.TraceId}', event_id '{dangling.EventId}') names blob sha256:{dangling.Digest?.Hash}, which neither the archive nor the owner holds; nothing was imported.");
            }
        }
    }

    private async Task FlushSmallAsync(ImportState state, List<(ImportBlob Blob, ReadOnlyMemory<byte> Data)> small, bool dryRun, CancellationToken cancellationToken)
    {
        if (small.Count == 0)
        {
            return;
        }

        var missing = await target.FindMissingAsync(state.Job.Record.Identity, [.. small.Select(s => s.Blob)], cancellationToken).ConfigureAwait(false);
        foreach (var item in small)
        {
            CountBlob(state, present: !missing.Contains(item.Blob.Hash));
        }

        var toUpload = small.Where(s => missing.Contains(s.Blob.Hash)).ToList();
        if (!dryRun && toUpload.Count > 0)
        {
            await target.UploadAsync(state.Job.Record.Identity, toUpload, cancellationToken).ConfigureAwait(false);
        }

        small.Clear();
    }

    private static void CountBlob(ImportState state, bool present)
    {
        state.ItemsDone++;
        state.Report = present
            ? state.Report with { BlobsPresent = state.Report.BlobsPresent + 1 }
            : state.Report with { BlobsUploaded = state.Report.BlobsUploaded + 1 };
    }

    private static IReadOnlyList<string> Lines(ArchiveEntryData entry) =>
        Encoding.UTF8.GetString(entry.Data.Span).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private List<ECDsa> TrustedKeys()
    {
        var keys = new List<ECDsa> { signingKey.PublicKey() };
        foreach (var configured in options.Import.TrustedKeys)
        {
            var pem = configured.Contains("-----BEGIN", StringComparison.Ordinal) ? configured : File.ReadAllText(configured);
            keys.Add(SigningKeys.ImportPublicKeyPem(pem));
        }

        return keys;
    }

    private static Task Progress(RunningJob job, string phase, CancellationToken cancellationToken) =>
        job.ReportAsync(p => p with { Phase = phase }, cancellationToken, force: true);

    private sealed class ImportState(RunningJob job, ManifestCursor cursor, ArchiveReader reader, ImportReportRecord report, HashSet<string> missing)
    {
        public RunningJob Job { get; } = job;

        public ImportReportRecord Report { get; set; } = report;

        public HashSet<string> Missing { get; } = missing;

        /// <summary>Blobs whose bytes the archive holds (uploaded, already present, or in a dry run would be).</summary>
        public HashSet<string> WithData { get; } = new(StringComparer.Ordinal);

        public long ItemsDone { get; set; }

        public long BytesDone { get; set; }

        /// <summary>The next entry to use, checked against the verified manifest first; null after the last (manifest and signature are only checked).</summary>
        public async Task<ArchiveEntryData?> NextAsync(CancellationToken cancellationToken)
        {
            while (await reader.ReadNextAsync(cancellationToken).ConfigureAwait(false) is { } entry)
            {
                try
                {
                    cursor.Accept(entry);
                }
                catch
                {
                    entry.Dispose();
                    throw;
                }

                if (entry.Kind is not (ArchiveEntryKind.Manifest or ArchiveEntryKind.Signature))
                {
                    return entry;
                }

                entry.Dispose();
            }

            return null;
        }

        public Task ReportAsync(CancellationToken cancellationToken) =>
            Job.ReportAsync(p => p with { ItemsDone = ItemsDone, BytesDone = BytesDone }, cancellationToken);
    }
}
