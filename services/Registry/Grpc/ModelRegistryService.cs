using Grpc.Core;
using Microservices.Registry.Models;
using Microservices.Registry.V1;

namespace Microservices.Registry.Grpc;

/// <summary>
/// The gRPC face of <see cref="Registry.ModelRegistry"/>: maps messages (<see cref="ModelMapping"/>),
/// delegates, and turns a <see cref="RegistryException"/> into the status of the same number with
/// its message. Anything else is a bug and goes out as UNKNOWN without details (logged by Grpc.AspNetCore).
/// </summary>
internal sealed class ModelRegistryService(Registry.ModelRegistry registry) : V1.ModelRegistry.ModelRegistryBase
{
    public override Task<Model> Register(RegisterModelRequest request, ServerCallContext context) => Call(async ct =>
        (await registry.RegisterAsync(request.ToDomain(), ct)).ToProto(), context);

    public override Task<Model> Get(GetModelRequest request, ServerCallContext context) => Call(async ct => request.KeyCase switch
    {
        GetModelRequest.KeyOneofCase.ModelId => (await registry.GetByIdAsync(request.Owner, request.ModelId, ct)).ToProto(),
        GetModelRequest.KeyOneofCase.Alias => (await registry.GetByAliasAsync(request.Owner, request.Alias, ct)).ToProto(),
        _ => throw RegistryException.InvalidArgument("key", "set model_id or alias"),
    }, context);

    public override Task<ListModelsResponse> List(ListModelsRequest request, ServerCallContext context) => Call(async ct =>
    {
        var page = await registry.ListAsync(request.Owner, request.ToDomain(), ct);
        var response = new ListModelsResponse { NextPageToken = page.NextPageToken ?? "" };
        response.Models.AddRange(page.Models.Select(m => m.ToProto()));
        return response;
    }, context);

    public override Task<Model> Update(UpdateModelRequest request, ServerCallContext context) => Call(async ct =>
        (await registry.UpdateAsync(request.Owner, request.ModelId, request.ToPatch(), request.ExpectedVersion, ct)).ToProto(), context);

    public override Task<DeleteModelResponse> Delete(DeleteModelRequest request, ServerCallContext context) => Call(async ct =>
    {
        await registry.DeleteAsync(request.Owner, request.ModelId, request.Force, request.ExpectedVersion, ct);
        return new DeleteModelResponse();
    }, context);

    public override Task<Model> SetStatus(SetStatusRequest request, ServerCallContext context) => Call(async ct =>
        (await registry.SetStatusAsync(request.Owner, request.ModelId, request.Status.ToDomain("status"), request.ExpectedVersion, ct)).ToProto(), context);

    public override Task<Model> SetAlias(SetAliasRequest request, ServerCallContext context) => Call(async ct =>
        (await registry.SetAliasAsync(request.Owner, request.ModelId, request.Alias, request.ExpectedVersion, ct)).ToProto(), context);

    public override Task<Model> RemoveAlias(RemoveAliasRequest request, ServerCallContext context) => Call(async ct =>
        (await registry.RemoveAliasAsync(request.Owner, request.ModelId, request.ExpectedVersion, ct)).ToProto(), context);

    public override Task Watch(WatchRequest request, IServerStreamWriter<ModelChange> responseStream, ServerCallContext context) => Call(async ct =>
    {
        using var watch = registry.Watch(request.Owner);

        // Headers tell the caller the watch is registered: every change committed from now on arrives.
        await context.WriteResponseHeadersAsync(new Metadata());
        await foreach (var change in watch.ReadAllAsync(ct))
        {
            await responseStream.WriteAsync(change.ToProto(), ct);
        }

        return true;
    }, context);

    public override Task<ImportModelListResponse> ImportModelList(IAsyncStreamReader<ImportModelListRequest> requestStream, ServerCallContext context) => Call(async ct =>
    {
        if (!await requestStream.MoveNext(ct))
        {
            throw RegistryException.InvalidArgument("owner", "the first message must carry the owner (the stream was empty)");
        }

        var first = requestStream.Current;
        await using var content = new ImportChunkStream(first.Chunk, requestStream);
        var report = await registry.ImportModelListAsync(first.Owner, content, first.Mode.ToDomain(), ct);
        return report.ToProto();
    }, context);

    public override Task<BackupResponse> Backup(BackupRequest request, ServerCallContext context) => Call(async ct =>
    {
        var result = await registry.BackupAsync(request.DestinationPath, ct);
        return new BackupResponse { DestinationPath = result.DestinationPath, SizeBytes = result.SizeBytes };
    }, context);

    public override Task<CheckIntegrityResponse> CheckIntegrity(CheckIntegrityRequest request, ServerCallContext context) => Call(async ct =>
    {
        var report = await registry.CheckIntegrityAsync(ct);
        var response = new CheckIntegrityResponse { Ok = report.Ok };
        response.Messages.AddRange(report.Messages);
        return response;
    }, context);

    private static async Task<T> Call<T>(Func<CancellationToken, Task<T>> call, ServerCallContext context)
    {
        try
        {
            return await call(context.CancellationToken);
        }
        catch (RegistryException e)
        {
            throw new RpcException(new Status((StatusCode)(int)e.Kind, e.Message));
        }
    }
}
