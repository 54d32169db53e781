using Microservices.Clients;
using Grpc.Core;
using Grpc.Net.Client;
using Microservices.Registry.V1;

namespace Microservices.Registry.Cli;

/// <summary>The registry's RPCs the CLI uses, over the generated client. Every call has a deadline.</summary>
internal sealed class RegistryClient(GrpcChannel channel, string owner, string? token, TimeSpan timeout) : IDisposable
{
    private readonly V1.ModelRegistry.ModelRegistryClient _client = new(channel);

    public string Owner => owner;

    /// <summary>Cortex-style: an id first, then an alias.</summary>
    public async Task<Model> ResolveAsync(string idOrAlias, CancellationToken cancellationToken)
    {
        try
        {
            return await _client.GetAsync(new GetModelRequest { Owner = owner, ModelId = idOrAlias }, Options(cancellationToken));
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            try
            {
                return await _client.GetAsync(new GetModelRequest { Owner = owner, Alias = idOrAlias }, Options(cancellationToken));
            }
            catch (RpcException) when (idOrAlias.Length > 128)
            {
                throw e;
            }
        }
    }

    public async IAsyncEnumerable<Model> ListAsync(ListModelsRequest query, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        query.Owner = owner;
        query.PageSize = 500;
        do
        {
            var page = await _client.ListAsync(query, Options(cancellationToken));
            foreach (var model in page.Models)
            {
                yield return model;
            }

            query.PageToken = page.NextPageToken;
        }
        while (query.PageToken.Length > 0);
    }

    public async Task<DeleteModelResponse> DeleteAsync(Model model, bool force, CancellationToken cancellationToken) =>
        await _client.DeleteAsync(new DeleteModelRequest { Owner = owner, ModelId = model.ModelId, Force = force, ExpectedVersion = model.Version }, Options(cancellationToken));

    public async Task<Model> SetAliasAsync(string modelId, string alias, CancellationToken cancellationToken) =>
        await _client.SetAliasAsync(new SetAliasRequest { Owner = owner, ModelId = modelId, Alias = alias }, Options(cancellationToken));

    public async Task<Model> RemoveAliasAsync(string modelId, CancellationToken cancellationToken) =>
        await _client.RemoveAliasAsync(new RemoveAliasRequest { Owner = owner, ModelId = modelId }, Options(cancellationToken));

    public async Task<BackupResponse> BackupAsync(CancellationToken cancellationToken) =>
        await _client.BackupAsync(new BackupRequest(), Options(cancellationToken));

    /// <summary>Streams the file in 64 KiB chunks; the service never sees the path, only the bytes.</summary>
    public async Task<ImportModelListResponse> ImportAsync(Stream file, ImportMode mode, CancellationToken cancellationToken)
    {
        using var call = _client.ImportModelList(Options(cancellationToken));
        var buffer = new byte[64 * 1024];
        var first = true;
        var offset = 0L;
        int read;
        while ((read = await file.ReadAsync(buffer, cancellationToken)) > 0 || first)
        {
            var message = new ImportModelListRequest { Chunk = Google.Protobuf.ByteString.CopyFrom(buffer, 0, read), Offset = offset };
            offset += read;
            if (first)
            {
                message.Owner = owner;
                message.Mode = mode;
                first = false;
            }

            await call.RequestStream.WriteAsync(message, cancellationToken);
            if (read == 0)
            {
                break;
            }
        }

        await call.RequestStream.CompleteAsync();
        return await call.ResponseAsync;
    }

    public void Dispose() => channel.Dispose();

    private CallOptions Options(CancellationToken cancellationToken) =>
        new(BearerToken.Headers(token), DateTime.UtcNow + timeout, cancellationToken);
}
