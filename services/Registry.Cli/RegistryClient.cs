using Google.Protobuf.Reflection;
using Microservices.Grpc;
using Microservices.Grpc.Client;
using Microservices.Registry.V1;

namespace Microservices.Registry.Cli;

/// <summary>The registry's RPCs the CLI uses, over our gRPC client. Every call has a deadline.</summary>
internal sealed class RegistryClient(GrpcChannel channel, string owner, TimeSpan timeout) : IDisposable
{
    private static readonly ServiceDescriptor Service = RegistryReflection.Descriptor.Services[0];
    private static readonly Method<GetModelRequest, Model> Get = Method<GetModelRequest, Model>.Of(Service, "Get");
    private static readonly Method<ListModelsRequest, ListModelsResponse> List = Method<ListModelsRequest, ListModelsResponse>.Of(Service, "List");
    private static readonly Method<DeleteModelRequest, DeleteModelResponse> Delete = Method<DeleteModelRequest, DeleteModelResponse>.Of(Service, "Delete");
    private static readonly Method<SetAliasRequest, Model> SetAlias = Method<SetAliasRequest, Model>.Of(Service, "SetAlias");
    private static readonly Method<RemoveAliasRequest, Model> RemoveAlias = Method<RemoveAliasRequest, Model>.Of(Service, "RemoveAlias");
    private static readonly Method<ImportModelListRequest, ImportModelListResponse> Import = Method<ImportModelListRequest, ImportModelListResponse>.Of(Service, "ImportModelList");
    private static readonly Method<BackupRequest, BackupResponse> Backup = Method<BackupRequest, BackupResponse>.Of(Service, "Backup");

    public string Owner => owner;

    /// <summary>Cortex-style: an id first, then an alias.</summary>
    public async Task<Model> ResolveAsync(string idOrAlias, CancellationToken cancellationToken)
    {
        try
        {
            return await channel.UnaryAsync(Get, new GetModelRequest { Owner = owner, ModelId = idOrAlias }, Options(cancellationToken));
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            try
            {
                return await channel.UnaryAsync(Get, new GetModelRequest { Owner = owner, Alias = idOrAlias }, Options(cancellationToken));
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
            var page = await channel.UnaryAsync(List, query, Options(cancellationToken));
            foreach (var model in page.Models)
            {
                yield return model;
            }

            query.PageToken = page.NextPageToken;
        }
        while (query.PageToken.Length > 0);
    }

    public Task<DeleteModelResponse> DeleteAsync(Model model, bool force, CancellationToken cancellationToken) =>
        channel.UnaryAsync(Delete, new DeleteModelRequest { Owner = owner, ModelId = model.ModelId, Force = force, ExpectedVersion = model.Version }, Options(cancellationToken));

    public Task<Model> SetAliasAsync(string modelId, string alias, CancellationToken cancellationToken) =>
        channel.UnaryAsync(SetAlias, new SetAliasRequest { Owner = owner, ModelId = modelId, Alias = alias }, Options(cancellationToken));

    public Task<Model> RemoveAliasAsync(string modelId, CancellationToken cancellationToken) =>
        channel.UnaryAsync(RemoveAlias, new RemoveAliasRequest { Owner = owner, ModelId = modelId }, Options(cancellationToken));

    public Task<BackupResponse> BackupAsync(string destination, CancellationToken cancellationToken) =>
        channel.UnaryAsync(Backup, new BackupRequest { DestinationPath = destination }, Options(cancellationToken));

    /// <summary>Streams the file in 64 KiB chunks; the service never sees the path, only the bytes.</summary>
    public async Task<ImportModelListResponse> ImportAsync(Stream file, ImportMode mode, CancellationToken cancellationToken)
    {
        using var call = channel.ClientStreamingCall(Import, Options(cancellationToken));
        var buffer = new byte[64 * 1024];
        var first = true;
        int read;
        while ((read = await file.ReadAsync(buffer, cancellationToken)) > 0 || first)
        {
            var message = new ImportModelListRequest { Chunk = Google.Protobuf.ByteString.CopyFrom(buffer, 0, read) };
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
        new CallOptions { CancellationToken = cancellationToken }.WithTimeout(timeout);
}
