using Grpc.Core;
using Microservices.Hosting.Security;
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
    {
        request.Owner = Writer(context, request.Owner);
        return (await registry.RegisterAsync(request.ToDomain(), ct)).ToProto();
    }, context);

    public override Task<Model> Get(GetModelRequest request, ServerCallContext context) => Call(async ct => request.KeyCase switch
    {
        GetModelRequest.KeyOneofCase.ModelId => (await registry.GetByIdAsync(Reader(context, request.Owner), request.ModelId, ct)).ToProto(),
        GetModelRequest.KeyOneofCase.Alias => (await registry.GetByAliasAsync(Reader(context, request.Owner), request.Alias, ct)).ToProto(),
        _ => throw RegistryException.InvalidArgument("key", "set model_id or alias"),
    }, context);

    public override Task<ListModelsResponse> List(ListModelsRequest request, ServerCallContext context) => Call(async ct =>
        (await registry.ListAsync(Reader(context, request.Owner), request.ToDomain(), ct)).ToProto(), context);

    public override Task<Model> Update(UpdateModelRequest request, ServerCallContext context) => Call(async ct =>
        (await registry.UpdateAsync(Writer(context, request.Owner), request.ModelId, request.ToPatch(), request.ExpectedVersion, ct)).ToProto(), context);

    public override Task<DeleteModelResponse> Delete(DeleteModelRequest request, ServerCallContext context) => Call(async ct =>
    {
        await registry.DeleteAsync(Writer(context, request.Owner), request.ModelId, request.Force, request.ExpectedVersion, ct);
        return new DeleteModelResponse();
    }, context);

    public override Task<Model> SetStatus(SetStatusRequest request, ServerCallContext context) => Call(async ct =>
        (await registry.SetStatusAsync(Writer(context, request.Owner), request.ModelId, request.Status.ToDomain("status"), request.ExpectedVersion, ct)).ToProto(), context);

    public override Task<Model> SetAlias(SetAliasRequest request, ServerCallContext context) => Call(async ct =>
        (await registry.SetAliasAsync(Writer(context, request.Owner), request.ModelId, request.Alias, request.ExpectedVersion, ct)).ToProto(), context);

    public override Task<Model> RemoveAlias(RemoveAliasRequest request, ServerCallContext context) => Call(async ct =>
        (await registry.RemoveAliasAsync(Writer(context, request.Owner), request.ModelId, request.ExpectedVersion, ct)).ToProto(), context);

    public override Task Watch(WatchRequest request, IServerStreamWriter<ModelChange> responseStream, ServerCallContext context) => Call(async ct =>
    {
        using var watch = registry.Watch(Reader(context, request.Owner));

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
        var owner = Writer(context, first.Owner); // who may import comes before what the stream holds
        await using var content = new ImportChunkStream(first, requestStream);
        var report = await registry.ImportModelListAsync(owner, content, first.Mode.ToDomain(), ct);
        return report.ToProto();
    }, context);

    public override Task<ImportModelsResponse> ImportModels(IAsyncStreamReader<ImportModelsRequest> requestStream, ServerCallContext context) => Call(async ct =>
    {
        if (!await requestStream.MoveNext(ct))
        {
            throw RegistryException.InvalidArgument("owner", "the first message must carry the owner (the stream was empty)");
        }

        var first = requestStream.Current;
        var report = await registry.ImportModelsAsync(Writer(context, first.Owner), ImportModelsMessages.ReadAsync(first, requestStream, ct), first.DryRun, ct);
        return report.ToProto();
    }, context);

    public override Task<BackupResponse> Backup(BackupRequest request, ServerCallContext context) => Call(async ct =>
    {
        context.Caller().RequireAdmin("Backup");
        var result = await registry.BackupAsync(request.DestinationPath, ct);
        return new BackupResponse { FileName = result.FileName, SizeBytes = result.SizeBytes };
    }, context);

    public override Task<CheckIntegrityResponse> CheckIntegrity(CheckIntegrityRequest request, ServerCallContext context) => Call(async ct =>
    {
        context.Caller().RequireAdmin("CheckIntegrity");
        var report = await registry.CheckIntegrityAsync(ct);
        var response = new CheckIntegrityResponse { Ok = report.Ok };
        response.Messages.AddRange(report.Messages);
        return response;
    }, context);

    // The owner is the token's subject: a request may name it or leave it empty, never name another.
    // A token delegated to the export reads or writes only as its scope says.
    private static string Reader(ServerCallContext context, string requested) => Owner(context, requested, "registry.read");

    private static string Writer(ServerCallContext context, string requested) => Owner(context, requested, "registry.write");

    private static string Owner(ServerCallContext context, string requested, string scope)
    {
        var caller = context.Caller();
        caller.RequireScope(scope);
        return caller.Owner(requested);
    }

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
