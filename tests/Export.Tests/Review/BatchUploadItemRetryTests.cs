using Grpc.Core;
using Microservices.Blob.V1;
using Microservices.Clients;
using Microservices.Export.Domain;
using Microservices.Export.Import;
using Microservices.Export.Jobs;
using Microservices.Export.Sources;
using Microservices.Export.Telemetry;
using Microservices.Export.Tests.Support;
using Microservices.Hosting;
using Microservices.Registry.V1;
using Microservices.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Microservices.Export.Tests.Review;

/// <summary>
/// BatchUpload answers per item: an item that failed transiently (UNAVAILABLE) is sent again, alone;
/// one refused for good (INVALID_ARGUMENT) fails the upload at once. The real blob service cannot be
/// made to fail one item of a batch, so a blob server that does is started for this.
/// </summary>
public sealed class BatchUploadItemRetryTests
{
    [Fact]
    public async Task An_item_answering_UNAVAILABLE_is_retried_alone_and_an_INVALID_ARGUMENT_one_is_not()
    {
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.AddServiceDefaults("flaky-blob", port);
        var blobs = new ItemFailures();
        builder.Services.AddSingleton(blobs);
        await using var app = builder.Build();
        app.MapGrpcService<ItemFailingBlobService>();
        await app.StartAsync();
        using var channel = GrpcChannels.Create($"http://127.0.0.1:{port}");
        var target = new GrpcImportTarget(
            new ModelRegistry.ModelRegistryClient(channel),
            new BlobService.BlobServiceClient(channel),
            new DependencyRetry(new RetryOptions { MaxAttempts = 5, FirstDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(50) }, new ExportMetrics(), NullLogger<DependencyRetry>.Instance),
            TestCredentials.Create(),
            new SourceOptions());
        var job = new JobIdentity(ExportJobs.NewId(), JobKind.Import, "alice");
        var labels = new Dictionary<string, string>();
        ImportBlob Blob(string hash) => new(hash, 1, false, labels);

        blobs.Fail("flaky", StatusCode.Unavailable, times: 2);
        await target.UploadAsync(job, [(Blob("steady"), new byte[1]), (Blob("flaky"), new byte[1])], CancellationToken.None);

        Assert.Equal(["steady,flaky", "flaky", "flaky"], blobs.Batches);

        blobs.Batches.Clear();
        blobs.Fail("refused", StatusCode.InvalidArgument, times: 100);
        var error = await Assert.ThrowsAsync<RpcException>(() => target.UploadAsync(job, [(Blob("refused"), new byte[1])], CancellationToken.None));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("Uploading blob refused", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(["refused"], blobs.Batches);
        await app.StopAsync();
    }

    internal sealed class ItemFailures
    {
        private readonly Dictionary<string, (StatusCode Code, int Left)> _failures = [];

        public List<string> Batches { get; } = [];

        public void Fail(string hash, StatusCode code, int times)
        {
            lock (_failures)
            {
                _failures[hash] = (code, times);
            }
        }

        public StatusCode Answer(string hash)
        {
            lock (_failures)
            {
                if (!_failures.TryGetValue(hash, out var failure) || failure.Left == 0)
                {
                    return StatusCode.OK;
                }

                _failures[hash] = failure with { Left = failure.Left - 1 };
                return failure.Code;
            }
        }
    }

    internal sealed class ItemFailingBlobService(ItemFailures failures) : BlobService.BlobServiceBase
    {
        public override Task<BatchUploadResponse> BatchUpload(BatchUploadRequest request, ServerCallContext context)
        {
            lock (failures.Batches)
            {
                failures.Batches.Add(string.Join(',', request.Items.Select(i => i.Digest.Hash)));
            }

            var response = new BatchUploadResponse();
            response.Results.AddRange(request.Items.Select(i => new BatchUploadResponse.Types.Result
            {
                Digest = i.Digest,
                Status = new ItemStatus { Code = (int)failures.Answer(i.Digest.Hash), Message = "as the test asked" },
            }));
            return Task.FromResult(response);
        }
    }
}
