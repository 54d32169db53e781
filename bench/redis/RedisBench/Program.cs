using System.Diagnostics;
using System.Globalization;
using StackExchange.Redis;

// Usage: RedisBench <host:port> <get|set> <clients> <pipeline> <requests>
// Like redis-benchmark -c <clients> -P <pipeline> -n <requests> -d 100, but every client is a
// concurrent caller sharing ONE ConnectionMultiplexer, as the services do. Prints "ops_per_sec=<n>".
if (args.Length != 5)
{
    Console.Error.WriteLine("usage: RedisBench <host:port> <get|set> <clients> <pipeline> <requests>");
    return 2;
}

var endpoint = args[0];
var op = args[1];
var clients = int.Parse(args[2], CultureInfo.InvariantCulture);
var pipeline = int.Parse(args[3], CultureInfo.InvariantCulture);
var requests = long.Parse(args[4], CultureInfo.InvariantCulture);
var value = new byte[100];
Random.Shared.NextBytes(value);
RedisKey key = "key:__rand_int__";

await using var redis = await ConnectionMultiplexer.ConnectAsync($"{endpoint},syncTimeout=30000");
var db = redis.GetDatabase();
await db.StringSetAsync(key, value);

Task Command(IDatabaseAsync target) => op == "get" ? target.StringGetAsync(key) : target.StringSetAsync(key, value);

async Task<double> RunAsync(long total)
{
    var remaining = total;
    var started = Stopwatch.GetTimestamp();
    var workers = Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
    {
        var batch = new Task[pipeline];
        while (true)
        {
            var claimed = Interlocked.Add(ref remaining, -pipeline);
            var n = claimed >= 0 ? pipeline : (int)Math.Max(0, pipeline + claimed);
            if (n == 0)
            {
                return;
            }

            if (n == 1)
            {
                await Command(db);
                continue;
            }

            // One IBatch: the n commands are written to the socket together, and every reply is awaited.
            var pipelined = db.CreateBatch();
            for (var i = 0; i < n; i++)
            {
                batch[i] = Command(pipelined);
            }

            pipelined.Execute();
            await Task.WhenAll(batch.AsSpan(0, n));
        }
    })).ToArray();
    await Task.WhenAll(workers);
    return total / Stopwatch.GetElapsedTime(started).TotalSeconds;
}

// Warm-up long enough for tiered compilation (and PGO) to reach steady-state code, as in a service.
await RunAsync(Math.Max(10_000, requests / 2));
var opsPerSecond = await RunAsync(requests);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ops_per_sec={opsPerSecond:0}"));
return 0;
