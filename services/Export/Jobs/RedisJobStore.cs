using System.Text.Json;
using System.Text.Json.Serialization;
using StackExchange.Redis;

namespace Microservices.Export.Jobs;

/// <summary>
/// Jobs in Redis: <c>job:{id}</c> the record as JSON, <c>job:{id}:fence</c> its writer's fence,
/// <c>job:{id}:parts</c> its checkpoints, <c>owner:{owner}:{kind}</c> a sorted set by creation time,
/// <c>active</c> the unfinished ids, <c>expiring</c> completed exports by expiry. Fenced writes are
/// Lua scripts, so the check and the write are one step.
/// </summary>
internal sealed class RedisJobStore(IConnectionMultiplexer redis, string keyPrefix) : IJobStore
{
    internal static readonly JsonSerializerOptions Json = new()
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    // KEYS: record, fence, active, expiring, the owner's last completed export.
    // ARGV: fence, json, finished (0/1), id, expires-at score or "", created-at of a completed export or "".
    private const string SaveScript = """
        if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
        redis.call('SET', KEYS[1], ARGV[2])
        if ARGV[3] == '1' then redis.call('SREM', KEYS[3], ARGV[4]) else redis.call('SADD', KEYS[3], ARGV[4]) end
        if ARGV[5] ~= '' then redis.call('ZADD', KEYS[4], ARGV[5], ARGV[4]) else redis.call('ZREM', KEYS[4], ARGV[4]) end
        if ARGV[6] ~= '' and tonumber(ARGV[6]) > tonumber(redis.call('HGET', KEYS[5], 'at') or '0') then redis.call('HSET', KEYS[5], 'at', ARGV[6], 'id', ARGV[4]) end
        return 1
        """;

    // KEYS: fence, parts. ARGV: fence, part number, json.
    private const string AppendScript = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        if redis.call('LLEN', KEYS[2]) ~= tonumber(ARGV[2]) - 1 then return 0 end
        redis.call('RPUSH', KEYS[2], ARGV[3])
        return 1
        """;

    // KEYS: fence, parts. ARGV: fence.
    private const string DeletePartsScript = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        redis.call('DEL', KEYS[2])
        return 1
        """;

    private IDatabase Db => redis.GetDatabase();

    private RedisKey Record(string id) => $"{keyPrefix}job:{id}";

    private RedisKey Fence(string id) => $"{keyPrefix}job:{id}:fence";

    private RedisKey Parts(string id) => $"{keyPrefix}job:{id}:parts";

    private RedisKey Cancel(string id) => $"{keyPrefix}job:{id}:cancel";

    private RedisKey OwnerIndex(string owner, JobKind kind) => $"{keyPrefix}owner:{owner}:{kind.ToString().ToLowerInvariant()}";

    private RedisKey LastCompleted(string owner) => $"{keyPrefix}owner:{owner}:last-completed-export";

    private RedisKey Active => $"{keyPrefix}active";

    private RedisKey Expiring => $"{keyPrefix}expiring";

    public async Task CreateAsync(JobRecord job, CancellationToken cancellationToken)
    {
        var transaction = Db.CreateTransaction();
        _ = transaction.StringSetAsync(Record(job.Id), JsonSerializer.Serialize(job, Json));
        _ = transaction.StringSetAsync(Fence(job.Id), 0);
        _ = transaction.SortedSetAddAsync(OwnerIndex(job.Owner, job.Kind), job.Id, job.CreatedAt.ToUnixTimeMilliseconds());
        _ = transaction.SetAddAsync(Active, job.Id);
        await transaction.ExecuteAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<JobRecord?> GetAsync(string id, CancellationToken cancellationToken)
    {
        var value = await Db.StringGetAsync(Record(id)).WaitAsync(cancellationToken).ConfigureAwait(false);
        return value.IsNull ? null : JsonSerializer.Deserialize<JobRecord>(value.ToString(), Json);
    }

    public async Task<IReadOnlyList<JobRecord>> GetManyAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return [];
        }

        var values = await Db.StringGetAsync([.. ids.Select(Record)]).WaitAsync(cancellationToken).ConfigureAwait(false);
        return [.. values.Where(v => !v.IsNull).Select(v => JsonSerializer.Deserialize<JobRecord>(v.ToString(), Json)!)];
    }

    public async Task<IReadOnlyList<JobRecord>> ListAsync(string owner, JobKind kind, int skip, int take, CancellationToken cancellationToken)
    {
        var ids = await Db.SortedSetRangeByRankAsync(OwnerIndex(owner, kind), skip, skip + take - 1, Order.Descending).WaitAsync(cancellationToken).ConfigureAwait(false);
        if (ids.Length == 0)
        {
            return [];
        }

        var values = await Db.StringGetAsync([.. ids.Select(id => Record(id.ToString()))]).WaitAsync(cancellationToken).ConfigureAwait(false);
        return [.. values.Where(v => !v.IsNull).Select(v => JsonSerializer.Deserialize<JobRecord>(v.ToString(), Json)!)];
    }

    public async Task<(string Id, DateTimeOffset CreatedAt)?> LastCompletedExportAsync(string owner, CancellationToken cancellationToken)
    {
        var values = await Db.HashGetAsync(LastCompleted(owner), ["at", "id"]).WaitAsync(cancellationToken).ConfigureAwait(false);
        return values[0].TryParse(out long milliseconds) ? (values[1].ToString(), DateTimeOffset.FromUnixTimeMilliseconds(milliseconds)) : null;
    }

    public async Task<IReadOnlyList<string>> ActiveAsync(CancellationToken cancellationToken)
    {
        var ids = await Db.SetMembersAsync(Active).WaitAsync(cancellationToken).ConfigureAwait(false);
        return [.. ids.Select(id => id.ToString())];
    }

    public async Task<IReadOnlyList<string>> ExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var ids = await Db.SortedSetRangeByScoreAsync(Expiring, double.NegativeInfinity, now.ToUnixTimeMilliseconds(), take: 100).WaitAsync(cancellationToken).ConfigureAwait(false);
        return [.. ids.Select(id => id.ToString())];
    }

    public async Task<long> ClaimAsync(string id, CancellationToken cancellationToken) =>
        await Db.StringIncrementAsync(Fence(id)).WaitAsync(cancellationToken).ConfigureAwait(false);

    public async Task<bool> SaveAsync(JobRecord job, long fence, CancellationToken cancellationToken)
    {
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        var completedExport = job.State == JobState.Completed && job.Kind == JobKind.Export;
        var expires = completedExport && job.ExpiresAt is { } at ? at.ToUnixTimeMilliseconds().ToString(invariant) : "";
        var created = completedExport ? job.CreatedAt.ToUnixTimeMilliseconds().ToString(invariant) : "";
        var result = await Db.ScriptEvaluateAsync(
            SaveScript,
            [Record(job.Id), Fence(job.Id), Active, Expiring, LastCompleted(job.Owner)],
            [fence, JsonSerializer.Serialize(job, Json), job.State.IsFinished() ? "1" : "0", job.Id, expires, created]).WaitAsync(cancellationToken).ConfigureAwait(false);
        return (long)result == 1;
    }

    public async Task ForgetAsync(string id, JobRecord? finished, long fence, CancellationToken cancellationToken)
    {
        if (finished is not null)
        {
            await SaveAsync(finished, fence, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await Db.SetRemoveAsync(Active, id).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<bool> AppendCheckpointAsync(string id, long fence, PartCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        var result = await Db.ScriptEvaluateAsync(
            AppendScript,
            [Fence(id), Parts(id)],
            [fence, checkpoint.PartNumber, JsonSerializer.Serialize(checkpoint, Json)]).WaitAsync(cancellationToken).ConfigureAwait(false);
        return (long)result == 1;
    }

    public async Task<IReadOnlyList<PartCheckpoint>> CheckpointsAsync(string id, CancellationToken cancellationToken)
    {
        var values = await Db.ListRangeAsync(Parts(id)).WaitAsync(cancellationToken).ConfigureAwait(false);
        return [.. values.Select(v => JsonSerializer.Deserialize<PartCheckpoint>(v.ToString(), Json)!)];
    }

    public async Task<bool> DeleteCheckpointsAsync(string id, long fence, CancellationToken cancellationToken)
    {
        var result = await Db.ScriptEvaluateAsync(DeletePartsScript, [Fence(id), Parts(id)], [fence]).WaitAsync(cancellationToken).ConfigureAwait(false);
        return (long)result == 1;
    }

    public Task RequestCancelAsync(string id, CancellationToken cancellationToken) =>
        Db.StringSetAsync(Cancel(id), 1).WaitAsync(cancellationToken);

    public async Task<bool> IsCancelRequestedAsync(string id, CancellationToken cancellationToken) =>
        await Db.KeyExistsAsync(Cancel(id)).WaitAsync(cancellationToken).ConfigureAwait(false);
}
