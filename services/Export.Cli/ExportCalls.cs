using System.Runtime.CompilerServices;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Microservices.Clients;
using Microservices.Export.V1;

namespace Microservices.Export.Cli;

/// <summary>
/// The export service's calls the CLI makes, over the generated client, with the caller's bearer
/// token (whose subject is the owner). Unary calls have a deadline; streams have none, and the ones the
/// contract marks NO_SIDE_EFFECTS (watches, Download) are reopened after a broken connection.
/// </summary>
internal sealed class ExportCalls(GrpcChannel channel, string? token, TimeSpan timeout) : IDisposable
{
    public const int UploadChunkSize = 1024 * 1024;
    private const int MaxReopens = 5;
    private const int ListPageSize = 100;

    private readonly ExportService.ExportServiceClient _client = new(channel);

    public async Task<ExportJob> StartExportAsync(ExportContents include, CancellationToken cancellationToken) =>
        await _client.StartExportAsync(new StartExportRequest { Include = include }, Unary(cancellationToken));

    public async Task<ExportJob> GetExportAsync(string exportId, CancellationToken cancellationToken) =>
        await _client.GetExportAsync(new GetExportRequest { ExportId = exportId }, Unary(cancellationToken));

    public async Task<ExportJob> CancelExportAsync(string exportId, CancellationToken cancellationToken) =>
        await _client.CancelExportAsync(new GetExportRequest { ExportId = exportId }, Unary(cancellationToken));

    public async Task<GetDownloadUrlResponse> GetDownloadUrlAsync(string exportId, TimeSpan? expiresIn, CancellationToken cancellationToken) =>
        await _client.GetDownloadUrlAsync(
            new GetDownloadUrlRequest { ExportId = exportId, ExpiresIn = expiresIn is { } e ? Duration.FromTimeSpan(e) : null }, Unary(cancellationToken));

    public async Task<SigningKey> GetSigningKeyAsync(CancellationToken cancellationToken) =>
        await _client.GetSigningKeyAsync(new GetSigningKeyRequest(), Unary(cancellationToken));

    public async Task<ImportJob> StartImportAsync(StartImportRequest request, CancellationToken cancellationToken) =>
        await _client.StartImportAsync(request, Unary(cancellationToken));

    /// <summary>Every export of the owner, newest first, page by page.</summary>
    public async IAsyncEnumerable<ExportJob> ListExportsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new ListExportsRequest { PageSize = ListPageSize };
        do
        {
            var page = await _client.ListExportsAsync(request, Unary(cancellationToken));
            foreach (var job in page.Exports)
            {
                yield return job;
            }

            request.PageToken = page.NextPageToken;
        }
        while (request.PageToken.Length > 0);
    }

    public IAsyncEnumerable<ExportJob> WatchExportAsync(string exportId, CancellationToken cancellationToken) =>
        WatchAsync(options => _client.WatchExport(new GetExportRequest { ExportId = exportId }, options), cancellationToken);

    public IAsyncEnumerable<ImportJob> WatchImportAsync(string importId, CancellationToken cancellationToken) =>
        WatchAsync(options => _client.WatchImport(new GetImportRequest { ImportId = importId }, options), cancellationToken);

    /// <summary>Appends the archive's bytes from <paramref name="offset"/> to <paramref name="output"/>; a broken stream is reopened where it stopped.</summary>
    public async Task DownloadAsync(string exportId, long offset, Stream output, Action<long>? progress, CancellationToken cancellationToken)
    {
        for (var reopens = 0; ; reopens++)
        {
            try
            {
                using var call = _client.Download(new DownloadRequest { ExportId = exportId, Offset = offset }, Streaming(cancellationToken));
                await foreach (var message in call.ResponseStream.ReadAllAsync(cancellationToken))
                {
                    await output.WriteAsync(message.Data.Memory, cancellationToken);
                    offset += message.Data.Length;
                    progress?.Invoke(message.Data.Length);
                }

                return;
            }
            catch (RpcException e) when (reopens < MaxReopens && IsBroken(e, cancellationToken))
            {
                await Task.Delay(Backoff(reopens), cancellationToken);
            }
        }
    }

    /// <summary>Streams an archive in 1 MiB chunks (the contract's recommendation). Not resumable: the contract has no offset for uploads.</summary>
    public async Task<UploadArchiveResponse> UploadArchiveAsync(Stream archive, Action<long>? progress, CancellationToken cancellationToken)
    {
        // Longer than the default: the service stores each part in S3 inside its read loop, so one
        // part's S3 retries (Export:Retry, up to 12 attempts) hold our writes back meanwhile.
        using var stall = new StallGuard(TimeSpan.FromMinutes(10), cancellationToken);
        using var call = _client.UploadArchive(Streaming(stall.Token));
        var buffer = new byte[UploadChunkSize];
        try
        {
            int read;
            while ((read = await archive.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken)) > 0)
            {
                await call.RequestStream.WriteAsync(new UploadArchiveRequest { Chunk = ByteString.CopyFrom(buffer, 0, read) }, stall.Token);
                stall.Progressed();
                progress?.Invoke(read);
            }

            await call.RequestStream.CompleteAsync();
            return await call.ResponseAsync;
        }
        catch (Exception) when (stall.Stalled)
        {
            throw stall.Error("UploadArchive");
        }
    }

    public void Dispose() => channel.Dispose();

    /// <summary>
    /// A watch sends the job now, then each change: reopening it after a broken connection loses
    /// nothing. Gives up after <see cref="MaxReopens"/> reopens in a row that brought no change.
    /// </summary>
    private async IAsyncEnumerable<T> WatchAsync<T>(Func<CallOptions, AsyncServerStreamingCall<T>> open, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (var reopens = 0; ; reopens++)
        {
            using var call = open(Streaming(cancellationToken));
            var received = 0;
            bool? moved;
            while ((moved = await TryMoveNextAsync(call.ResponseStream, reopens < MaxReopens, cancellationToken)) == true)
            {
                // The first message of a reopened watch is the state we already had; a second one is progress.
                if (++received > 1)
                {
                    reopens = 0;
                }

                yield return call.ResponseStream.Current;
            }

            if (moved == false)
            {
                yield break;
            }

            await Task.Delay(Backoff(reopens), cancellationToken);
        }
    }

    /// <summary>True or false as MoveNext says; null when the connection broke and the stream may be reopened.</summary>
    private static async Task<bool?> TryMoveNextAsync<T>(IAsyncStreamReader<T> stream, bool mayReopen, CancellationToken cancellationToken)
    {
        try
        {
            return await stream.MoveNext(cancellationToken);
        }
        catch (RpcException e) when (mayReopen && IsBroken(e, cancellationToken))
        {
            return null;
        }
    }

    /// <summary>What a restarting server or a dropped connection looks like (not our own cancellation).</summary>
    private static bool IsBroken(RpcException e, CancellationToken cancellationToken) =>
        e.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Cancelled && !cancellationToken.IsCancellationRequested;

    private static TimeSpan Backoff(int attempt) => TimeSpan.FromMilliseconds(Math.Min(500 * (1 << attempt), 5000));

    private Metadata Headers() => BearerToken.Headers(token);

    private CallOptions Unary(CancellationToken cancellationToken) =>
        new(headers: Headers(), deadline: DateTime.UtcNow + timeout, cancellationToken: cancellationToken);

    private CallOptions Streaming(CancellationToken cancellationToken) => new(headers: Headers(), cancellationToken: cancellationToken);
}
