using Microservices.Grpc;
using Microservices.Grpc.Client;
using Microservices.Registry.V1;

namespace Microservices.Registry.Tests.Grpc;

/// <summary>The registry's methods for our gRPC client, as any other caller would declare them.</summary>
internal static class Rpc
{
    private static readonly Google.Protobuf.Reflection.ServiceDescriptor Service = RegistryReflection.Descriptor.Services[0];

    public static readonly Method<RegisterModelRequest, Model> Register = Method<RegisterModelRequest, Model>.Of(Service, "Register");
    public static readonly Method<GetModelRequest, Model> Get = Method<GetModelRequest, Model>.Of(Service, "Get");
    public static readonly Method<ListModelsRequest, ListModelsResponse> List = Method<ListModelsRequest, ListModelsResponse>.Of(Service, "List");
    public static readonly Method<UpdateModelRequest, Model> Update = Method<UpdateModelRequest, Model>.Of(Service, "Update");
    public static readonly Method<DeleteModelRequest, DeleteModelResponse> Delete = Method<DeleteModelRequest, DeleteModelResponse>.Of(Service, "Delete");
    public static readonly Method<SetStatusRequest, Model> SetStatus = Method<SetStatusRequest, Model>.Of(Service, "SetStatus");
    public static readonly Method<SetAliasRequest, Model> SetAlias = Method<SetAliasRequest, Model>.Of(Service, "SetAlias");
    public static readonly Method<RemoveAliasRequest, Model> RemoveAlias = Method<RemoveAliasRequest, Model>.Of(Service, "RemoveAlias");
    public static readonly Method<WatchRequest, ModelChange> Watch = Method<WatchRequest, ModelChange>.Of(Service, "Watch");
    public static readonly Method<ImportModelListRequest, ImportModelListResponse> Import = Method<ImportModelListRequest, ImportModelListResponse>.Of(Service, "ImportModelList");
    public static readonly Method<BackupRequest, BackupResponse> Backup = Method<BackupRequest, BackupResponse>.Of(Service, "Backup");
    public static readonly Method<CheckIntegrityRequest, CheckIntegrityResponse> CheckIntegrity = Method<CheckIntegrityRequest, CheckIntegrityResponse>.Of(Service, "CheckIntegrity");

    public static CallOptions Timeout => new CallOptions().WithTimeout(TimeSpan.FromSeconds(30));

    public static RegisterModelRequest NewModel(string owner, string id, string alias = "") => new()
    {
        Owner = owner,
        ModelId = id,
        SourceType = SourceType.Huggingface,
        AuthorRepo = "bartowski/llama",
        Branch = "main",
        ConfigPath = "models/" + id.Replace('/', '_') + ".yaml",
        Alias = alias,
    };

    public static Task<Model> RegisterAsync(this GrpcChannel channel, RegisterModelRequest request) =>
        channel.UnaryAsync(Register, request, Timeout);

    public static Task<Model> GetByIdAsync(this GrpcChannel channel, string owner, string id) =>
        channel.UnaryAsync(Get, new GetModelRequest { Owner = owner, ModelId = id }, Timeout);

    public static Task<Model> GetByAliasAsync(this GrpcChannel channel, string owner, string alias) =>
        channel.UnaryAsync(Get, new GetModelRequest { Owner = owner, Alias = alias }, Timeout);

    public static async Task<RpcException> FailsAsync<T>(Func<Task<T>> call)
    {
        try
        {
            await call();
        }
        catch (RpcException e)
        {
            return e;
        }

        throw new Xunit.Sdk.XunitException("The call succeeded; an error status was expected.");
    }
}
