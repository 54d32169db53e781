using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Microservices.Blob.V1;
using Microservices.Export.V1;
using Microservices.Registry.V1;

namespace Microservices.Export.Tests.Support;

/// <summary>Puts an owner's data into an installation through its public contracts, and reads it back.</summary>
internal static class Seed
{
    public static async Task<List<Model>> ModelsAsync(ExportSystem system, string owner, int count, string prefix = "m")
    {
        var models = new List<Model>();
        for (var i = 0; i < count; i++)
        {
            var request = new RegisterModelRequest
            {
                Owner = owner,
                ModelId = $"hf.co/{prefix}/model-{i:D5}.gguf",
                SourceType = SourceType.Huggingface,
                AuthorRepo = $"{prefix}/repo{i % 7}",
                Branch = "main",
                ConfigPath = $"models/{prefix}-{i}.yaml",
            };
            request.Tags.Add("n", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            models.Add(await system.Registry.RegisterAsync(request, ExportSystem.As(owner)));
        }

        return models;
    }

    /// <summary>Blobs of the given sizes (random bytes, so they do not compress), each referenced from one trace.</summary>
    public static async Task<List<(Digest Digest, byte[] Data)>> BlobsAsync(ExportSystem system, string owner, IEnumerable<int> sizes, int seed = 1, bool sensitive = false)
    {
        var random = new Random(seed);
        var blobs = new List<(Digest, byte[])>();
        var batch = new BatchUploadRequest();
        long batchBytes = 0;
        foreach (var size in sizes)
        {
            var data = new byte[size];
            random.NextBytes(data);
            var digest = new Digest { Hash = Convert.ToHexStringLower(SHA256.HashData(data)), SizeBytes = size };
            blobs.Add((digest, data));
            if (size > 2 * 1024 * 1024)
            {
                await UploadLargeAsync(system, owner, digest, data, sensitive);
                continue;
            }

            if (batchBytes + size > 2 * 1024 * 1024 || batch.Items.Count == 500)
            {
                await SendAsync(system, owner, batch);
                batch = new BatchUploadRequest();
                batchBytes = 0;
            }

            batch.Items.Add(new BatchUploadRequest.Types.Item { Digest = digest, Data = ByteString.CopyFrom(data), Sensitive = sensitive });
            batchBytes += size;
        }

        await SendAsync(system, owner, batch);
        foreach (var chunk in blobs.Chunk(500))
        {
            var references = new AddReferencesRequest();
            references.References.AddRange(chunk.Select((b, i) => new Reference { TraceId = $"trace-{b.Item1.Hash[..8]}", EventId = "image-1", Digest = b.Item1 }));
            await system.Blob.AddReferencesAsync(references, ExportSystem.As(owner));
        }

        return blobs;
    }

    private static async Task SendAsync(ExportSystem system, string owner, BatchUploadRequest batch)
    {
        if (batch.Items.Count == 0)
        {
            return;
        }

        var response = await system.Blob.BatchUploadAsync(batch, ExportSystem.As(owner));
        Assert.All(response.Results, r => Assert.Equal(0, r.Status.Code));
    }

    private static async Task UploadLargeAsync(ExportSystem system, string owner, Digest digest, byte[] data, bool sensitive)
    {
        var status = await system.Blob.StartUploadAsync(new StartUploadRequest { Digest = digest, Sensitive = sensitive }, ExportSystem.As(owner));
        using var call = system.Blob.Upload(ExportSystem.As(owner));
        for (var offset = 0; offset < data.Length; offset += 1024 * 1024)
        {
            var size = Math.Min(1024 * 1024, data.Length - offset);
            await call.RequestStream.WriteAsync(new UploadRequest { UploadId = offset == 0 ? status.UploadId : "", WriteOffset = offset, Data = ByteString.CopyFrom(data, offset, size) });
        }

        await call.RequestStream.CompleteAsync();
        var done = await call.ResponseAsync;
        Assert.True(done.Complete);
    }

    /// <summary>Watches until the job is finished and returns its last state.</summary>
    public static async Task<ExportJob> FinishedAsync(ExportSystem system, string owner, string exportId, TimeSpan? timeout = null)
    {
        using var call = system.Export.WatchExport(new GetExportRequest { ExportId = exportId }, ExportSystem.As(owner, timeout ?? TimeSpan.FromMinutes(3)));
        return await LastAsync(call.ResponseStream, "WatchExport");
    }

    public static async Task<ImportJob> ImportFinishedAsync(ExportSystem system, string owner, string importId, TimeSpan? timeout = null)
    {
        using var call = system.Export.WatchImport(new GetImportRequest { ImportId = importId }, ExportSystem.As(owner, timeout ?? TimeSpan.FromMinutes(3)));
        return await LastAsync(call.ResponseStream, "WatchImport");
    }

    private static async Task<T> LastAsync<T>(IAsyncStreamReader<T> stream, string method)
        where T : class
    {
        T? last = null;
        await foreach (var message in stream.ReadAllAsync())
        {
            last = message;
        }

        return last ?? throw new InvalidOperationException($"{method} sent nothing.");
    }

    /// <summary>Every model of the owner, as the registry lists them.</summary>
    public static async Task<List<Model>> ListModelsAsync(ExportSystem system, string owner)
    {
        var models = new List<Model>();
        var token = "";
        do
        {
            var page = await system.Registry.ListAsync(new ListModelsRequest { PageSize = 500, PageToken = token }, ExportSystem.As(owner));
            models.AddRange(page.Models);
            token = page.NextPageToken;
        }
        while (token.Length > 0);
        return models;
    }
}
