namespace Microservices.Redis;

public static class RedisClientFactory
{
    /// <summary>Creates a client that connects (and keeps reconnecting) in the background; never blocks or throws for a down server.</summary>
    public static IRedisClient Create(RedisOptions options) => new RedisClient(options);

    public static IRedisClient Create(string connectionString) => Create(RedisOptions.Parse(connectionString));

    /// <summary>
    /// Creates a client and waits for the first connection attempt. With
    /// <see cref="RedisOptions.AbortOnConnectFail"/> (abortConnect=true, the default) a failed first
    /// attempt throws; otherwise the client is returned and keeps retrying.
    /// </summary>
    public static async Task<IRedisClient> ConnectAsync(RedisOptions options, CancellationToken cancellationToken = default)
    {
        var client = new RedisClient(options);
        try
        {
            await client.FirstConnectAttempt.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (options.AbortOnConnectFail && !client.IsConnected)
            {
                throw new RedisConnectionException($"Could not connect to Redis: {client.LastConnectionError}");
            }

            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public static Task<IRedisClient> ConnectAsync(string connectionString, CancellationToken cancellationToken = default) =>
        ConnectAsync(RedisOptions.Parse(connectionString), cancellationToken);
}
