using Microservices.TestSupport;
using Grpc.Core;
using Microservices.Registry.V1;

namespace Microservices.Registry.Tests.Grpc;

/// <summary>Shorthands for the tests' calls through the generated client, each with a deadline.</summary>
internal static class Rpc
{
    public static CallOptions Timeout => new(deadline: DateTime.UtcNow.AddSeconds(30));

    /// <summary>As <paramref name="owner"/> (a token with that subject), for client streams whose owner the interceptor cannot see.</summary>
    public static CallOptions As(string owner) => new(TestTokens.As(owner), DateTime.UtcNow.AddSeconds(30));

    /// <summary>As an operator (the admin role), for Backup and CheckIntegrity.</summary>
    public static CallOptions Admin => new(TestTokens.Bearer(TestTokens.Admin()), DateTime.UtcNow.AddSeconds(30));

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

    public static Task<Model> GetByIdAsync(this ModelRegistryClient client, string owner, string id) =>
        client.GetAsync(new GetModelRequest { Owner = owner, ModelId = id }, Timeout).ResponseAsync;

    public static Task<Model> GetByAliasAsync(this ModelRegistryClient client, string owner, string alias) =>
        client.GetAsync(new GetModelRequest { Owner = owner, Alias = alias }, Timeout).ResponseAsync;

    public static Task<RpcException> FailsAsync<T>(Func<AsyncUnaryCall<T>> call) => FailsAsync(() => call().ResponseAsync);

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
