using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Microservices.Blob.V1;
using Microservices.Registry.V1;

namespace Microservices.ExportBench;

/// <summary>
/// Gives an owner data through the services' own batch calls: random blobs with BatchUpload (as many
/// per call as its 3 MiB allows, several calls at once), one reference per blob with AddReferences,
/// models with ImportModels (500 per message). Counts the calls it makes, so the request-log
/// counter can be checked against them.
/// </summary>
internal sealed class Seeder(BlobService.BlobServiceClient blobs, ModelRegistry.ModelRegistryClient registry, BenchAuth auth)
{
    private const long BatchBytes = 3L * 1024 * 1024;
    private long _batchUploads;

    public long BatchUploadCalls => Interlocked.Read(ref _batchUploads);

    public long AddReferencesCalls { get; private set; }

    public long ImportModelsCalls { get; private set; }

    public async Task<List<Digest>> BlobsAsync(string owner, int count, int size, int parallel)
    {
        var perCall = (int)Math.Clamp(BatchBytes / size, 1, 1000);
        var digests = new Digest[count];
        var batches = Enumerable.Range(0, (count + perCall - 1) / perCall);
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (batch, ct) =>
        {
            var request = new BatchUploadRequest();
            var random = new Random();
            for (var i = batch * perCall; i < Math.Min(count, (batch + 1) * perCall); i++)
            {
                var data = new byte[size];
                random.NextBytes(data);
                digests[i] = new Digest { Hash = Convert.ToHexStringLower(SHA256.HashData(data)), SizeBytes = size };
                request.Items.Add(new BatchUploadRequest.Types.Item { Digest = digests[i], Data = UnsafeByteOperations.UnsafeWrap(data) });
            }

            var response = await blobs.BatchUploadAsync(request, auth.Headers(owner), cancellationToken: ct);
            Interlocked.Increment(ref _batchUploads);
            var failed = response.Results.FirstOrDefault(r => r.Status.Code != 0);
            if (failed is not null || response.Results.Count != request.Items.Count)
            {
                throw new InvalidOperationException($"BatchUpload for {owner}: {failed?.Digest.Hash} {failed?.Status.Code} {failed?.Status.Message}");
            }
        });
        return [.. digests];
    }

    public async Task ReferencesAsync(string owner, IReadOnlyList<Digest> digests)
    {
        for (var start = 0; start < digests.Count; start += 1000)
        {
            var request = new AddReferencesRequest();
            for (var i = start; i < Math.Min(digests.Count, start + 1000); i++)
            {
                request.References.Add(new Reference { TraceId = $"bench-trace-{i / 100}", EventId = $"event-{i}", Digest = digests[i] });
            }

            await blobs.AddReferencesAsync(request, auth.Headers(owner));
            AddReferencesCalls++;
        }
    }

    public async Task ModelsAsync(string owner, int count)
    {
        using var call = registry.ImportModels(auth.Headers(owner));
        for (var start = 0; start < count; start += 500)
        {
            var message = new ImportModelsRequest { Owner = start == 0 ? owner : "", Offset = start };
            for (var i = start; i < Math.Min(count, start + 500); i++)
            {
                var repo = $"org{i % 37}/repo{i % 211}";
                var model = new Model
                {
                    ModelId = $"huggingface.co/{repo}/model-{i:D6}.gguf",
                    SourceType = SourceType.Huggingface,
                    AuthorRepo = repo,
                    Branch = "main",
                    ConfigPath = $"models/{i}/model.yml",
                    Status = i % 10 == 0 ? ModelStatus.Running : ModelStatus.Ready,
                };
                model.Tags["quantization"] = i % 2 == 0 ? "Q4_K_M" : "Q8_0";
                message.Models.Add(model);
            }

            await call.RequestStream.WriteAsync(message);
        }

        await call.RequestStream.CompleteAsync();
        var response = await call.ResponseAsync;
        ImportModelsCalls++;
        if (!response.Committed || response.Imported != count)
        {
            throw new InvalidOperationException($"ImportModels for {owner}: committed={response.Committed} imported={response.Imported} of {count}");
        }
    }
}
