using System.Data.Common;
using System.Text;
using Microservices.Registry.Import;
using Microservices.Registry.Models;

namespace Microservices.Registry.Repositories;

/// <summary>
/// Decides, inside an ImportModels transaction, what happens to each model: new, unchanged or a
/// conflict, and which alias a new model without one gets. Every read is batched
/// (<see cref="KeysPerQuery"/> keys per statement) instead of one per model: the owner's rows
/// for the incoming ids, the holders of the incoming aliases, and the holders of generated
/// alias candidates.
/// </summary>
internal sealed class ModelImportPlanner
{
    /// <summary>Well under SQLite's 32,766 host parameters; large enough that 100,000 models take 200 statements.</summary>
    public const int KeysPerQuery = 500;

    // A new model's alias candidates are looked up a few at a time: the first is nearly always
    // free, so looking up more for everyone would multiply the statements for nothing.
    private const int FirstLookahead = 1;
    private const int PrefetchLookahead = 3;
    private const int ClashLookahead = 8;

    private readonly DbConnection _connection;
    private readonly DbTransaction _transaction;
    private readonly string _owner;

    private ModelImportPlanner(DbConnection connection, DbTransaction transaction, string owner)
    {
        _connection = connection;
        _transaction = transaction;
        _owner = owner;
    }

    /// <summary>
    /// Rows are read, not locked: the import only inserts, so a concurrent change to a model it
    /// found unchanged orders after it, and a concurrent insert or alias change that clashes
    /// fails its inserts on the unique indexes (the caller reports that as Aborted).
    /// </summary>
    public static async Task<ModelImportPlan> PlanAsync(
        DbConnection connection,
        DbTransaction transaction,
        string owner,
        IReadOnlyList<ModelToImport> models,
        Func<string, IEnumerable<string>> aliasCandidates,
        string tagsJsonSql,
        DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var planner = new ModelImportPlanner(connection, transaction, owner);

        var existing = new Dictionary<string, RegisteredModel>(StringComparer.Ordinal);
        await planner.ReadByKeysAsync(
            $"SELECT {ModelRows.Columns}, {tagsJsonSql} FROM models m WHERE m.owner = @owner AND m.model_id IN",
            [.. models.Select(m => m.Model.ModelId)],
            reader =>
            {
                var model = ModelRows.Read(reader);
                existing[model.ModelId] = model;
            },
            cancellationToken);

        var askedAliases = models.Where(m => !existing.ContainsKey(m.Model.ModelId) && m.Model.Alias is not null).Select(m => m.Model.Alias!).ToList();
        var holders = await planner.AliasHoldersAsync(askedAliases, cancellationToken);

        var conflicts = new List<ModelImportConflict>();
        var accepted = new List<ModelToImport>();
        var unchanged = 0;
        foreach (var import in models)
        {
            var model = import.Model;
            if (existing.TryGetValue(model.ModelId, out var registered))
            {
                var differences = ModelDifferences.Of(registered, model, compareTags: true);
                if (differences.Count == 0)
                {
                    unchanged++;
                }
                else
                {
                    conflicts.Add(new ModelImportConflict(model.ModelId, model.Alias, ModelConflictKind.ModelExists,
                        $"model '{model.ModelId}' is already registered with a different {string.Join(", ", differences)}"));
                }
            }
            else if (model.Alias is { } alias && holders.TryGetValue(alias, out var holder))
            {
                conflicts.Add(new ModelImportConflict(model.ModelId, alias, ModelConflictKind.AliasTaken,
                    $"alias '{alias}' is already used by model '{holder}'"));
            }
            else
            {
                accepted.Add(import);
            }
        }

        // Every alias the call asks for is off limits to generation, wherever in the call it comes.
        var reserved = models.Where(m => m.Model.Alias is not null).Select(m => m.Model.Alias!).ToHashSet(StringComparer.Ordinal);
        var generated = await planner.GenerateAliasesAsync(
            [.. accepted.Where(m => m.Model.Alias is null).Select(m => m.Model.ModelId)], aliasCandidates, reserved, cancellationToken);

        var rows = accepted.Select(import => new RegisteredModel
        {
            Owner = owner,
            ModelId = import.Model.ModelId,
            SourceType = import.Model.SourceType,
            AuthorRepo = import.Model.AuthorRepo,
            Branch = import.Model.Branch,
            ConfigPath = import.Model.ConfigPath,
            Alias = import.Model.Alias ?? generated[import.Model.ModelId],
            Status = import.Model.Status,
            Tags = import.Model.Tags,
            Version = 1,
            CreatedAt = import.CreatedAt ?? now,
            UpdatedAt = import.UpdatedAt ?? now,
        }).ToList();
        return new ModelImportPlan(rows, unchanged, conflicts);
    }

    /// <summary>
    /// The alias Register would give each model, taken in call order: a model takes the first of
    /// its candidates that no model holds and no earlier pick or asked-for alias has. When a
    /// model's looked-up candidates are all taken, its next ones are looked up before any later
    /// model picks (so picks are as if registered one by one), and the same statement prefetches
    /// a few more for the models after it, so clashing models don't cost a statement each.
    /// </summary>
    private async Task<Dictionary<string, string>> GenerateAliasesAsync(
        IReadOnlyList<string> modelIds, Func<string, IEnumerable<string>> aliasCandidates, HashSet<string> reserved, CancellationToken cancellationToken)
    {
        var picked = new Dictionary<string, string>(StringComparer.Ordinal);
        var waiting = modelIds.Select(id => new CandidateWalk(id, aliasCandidates(id))).ToList();
        var lookedUp = new HashSet<string>(StringComparer.Ordinal);
        var held = new HashSet<string>(StringComparer.Ordinal);

        async Task LookUpAsync(List<string> keys) =>
            held.UnionWith((await AliasHoldersAsync(keys, cancellationToken)).Keys);

        var keys = new List<string>();
        foreach (var walk in waiting)
        {
            walk.TopUp(FirstLookahead, lookedUp, keys);
        }

        await LookUpAsync(keys);
        var next = 0;
        while (next < waiting.Count)
        {
            for (; next < waiting.Count; next++)
            {
                var walk = waiting[next];
                if (walk.TakeFree(c => !held.Contains(c) && !reserved.Contains(c)) is not { } alias)
                {
                    break;
                }

                reserved.Add(alias);
                picked[walk.ModelId] = alias;
            }

            if (next == waiting.Count)
            {
                break;
            }

            keys = [];
            waiting[next].TopUp(ClashLookahead, lookedUp, keys);
            for (var j = next + 1; j < Math.Min(waiting.Count, next + 1 + KeysPerQuery) && keys.Count < KeysPerQuery; j++)
            {
                waiting[j].TopUp(PrefetchLookahead, lookedUp, keys);
            }

            await LookUpAsync(keys);
        }

        return picked;
    }

    private async Task<Dictionary<string, string>> AliasHoldersAsync(IReadOnlyList<string> aliases, CancellationToken cancellationToken)
    {
        var holders = new Dictionary<string, string>(StringComparer.Ordinal);
        await ReadByKeysAsync(
            "SELECT m.alias, m.model_id FROM models m WHERE m.owner = @owner AND m.alias IN",
            aliases,
            reader => holders[reader.GetString(0)] = reader.GetString(1),
            cancellationToken);
        return holders;
    }

    /// <summary>Runs "<paramref name="selectWhere"/> (@k0, …)" once per chunk of keys.</summary>
    private async Task ReadByKeysAsync(string selectWhere, IReadOnlyList<string> keys, Action<DbDataReader> read, CancellationToken cancellationToken)
    {
        for (var start = 0; start < keys.Count; start += KeysPerQuery)
        {
            var count = Math.Min(KeysPerQuery, keys.Count - start);
            await using var command = DbCommands.Create(_connection, _transaction, "");
            command.Add("@owner", _owner);
            var sql = new StringBuilder(selectWhere).Append(" (");
            for (var i = 0; i < count; i++)
            {
                sql.Append(i == 0 ? "@k0" : $", @k{i}");
                command.Add($"@k{i}", keys[start + i]);
            }

            command.CommandText = sql.Append(')').ToString();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                read(reader);
            }
        }
    }

    /// <summary>One model's alias candidates: those looked up and not yet tried, then the rest.</summary>
    private sealed class CandidateWalk(string modelId, IEnumerable<string> candidates)
    {
        private readonly IEnumerator<string> _rest = candidates.GetEnumerator();
        private readonly Queue<string> _lookedUp = new();

        public string ModelId { get; } = modelId;

        /// <summary>Draws candidates until <paramref name="count"/> wait to be tried; those never looked up go to <paramref name="keys"/>.</summary>
        public void TopUp(int count, HashSet<string> lookedUp, List<string> keys)
        {
            while (_lookedUp.Count < count && _rest.MoveNext())
            {
                _lookedUp.Enqueue(_rest.Current);
                if (lookedUp.Add(_rest.Current))
                {
                    keys.Add(_rest.Current);
                }
            }
        }

        /// <summary>The first waiting candidate that is free, dropping the taken ones; null when none is.</summary>
        public string? TakeFree(Func<string, bool> isFree)
        {
            while (_lookedUp.TryDequeue(out var candidate))
            {
                if (isFree(candidate))
                {
                    return candidate;
                }
            }

            return null;
        }
    }
}

/// <summary><see cref="New"/> in call order, as they would be written.</summary>
internal sealed record ModelImportPlan(IReadOnlyList<RegisteredModel> New, int Unchanged, IReadOnlyList<ModelImportConflict> Conflicts);
