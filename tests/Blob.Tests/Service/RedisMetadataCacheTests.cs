using System.Net.Sockets;
using System.Text;
using Microservices.Blob.Tests.Support;
using Microservices.Blob.V1;
using Microservices.TestSupport;

namespace Microservices.Blob.Tests.Service;

/// <summary>Blob metadata in the shared Redis tier (a real redis-server), invalidated on change.</summary>
public sealed class RedisMetadataCacheTests
{
    [Fact]
    public async Task Stat_is_cached_in_redis_and_invalidated_when_references_change()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var host = await BlobHost.StartAsync(redis.Settings);

        var alice = new BlobClient(host.Channel, "alice");
        var data = TestData.Random(2000, seed: 60);
        await alice.PutAsync(data);
        Assert.Equal(0, (await alice.StatAsync(BlobClient.D(data))).ReferenceCount);

        var keys = await RedisKeysAsync(redis.Port);
        Assert.Contains(keys, k => k.StartsWith("blob:v1:meta:", StringComparison.Ordinal) && k.EndsWith(TestData.Sha256Hex(data), StringComparison.Ordinal));
        Assert.DoesNotContain(keys, k => k.Contains("alice", StringComparison.Ordinal));

        var add = new AddReferencesRequest { References = { new V1.Reference { TraceId = "t", EventId = "e", Digest = BlobClient.D(data) } } };
        await alice.AddReferencesAsync(add);
        Assert.Equal(1, (await alice.StatAsync(BlobClient.D(data))).ReferenceCount);
    }

    private static async Task<List<string>> RedisKeysAsync(int port)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        var stream = client.GetStream();
        await stream.WriteAsync("*2\r\n$4\r\nKEYS\r\n$1\r\n*\r\n"u8.ToArray());
        var buffer = new byte[65536];
        var text = new StringBuilder();
        do
        {
            var read = await stream.ReadAsync(buffer);
            text.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }
        while (stream.DataAvailable);

        return text.ToString().Split("\r\n").Where(l => l.Length > 0 && l[0] is not ('*' or '$')).ToList();
    }
}
