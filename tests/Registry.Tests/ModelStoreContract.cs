using System.Text;
using Microservices.Registry.Changes;
using Microservices.Registry.Import;
using Microservices.Registry.Models;
using Microservices.Registry.Repositories;

namespace Microservices.Registry.Tests;

/// <summary>
/// One behaviour suite both stores must pass: the subclasses only say how to get a store.
/// Each test uses its own owner, which also proves owner scoping on a shared database.
/// </summary>
public abstract partial class ModelStoreContract : IAsyncLifetime
{
    private protected const string HfId = "huggingface.co/bartowski/llama3.1-7b-gguf/Model_ID_Xxx.gguf";

    private protected string Owner { get; } = "owner-" + Guid.NewGuid().ToString("N")[..12];

    private protected IModelStore Store { get; private set; } = null!;

    private protected ModelRegistry Registry { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Store = await CreateStoreAsync();
        Registry = new ModelRegistry(Store, new ModelChangeFeed(), TimeProvider.System);
    }

    public async Task DisposeAsync() => await Store.DisposeAsync();

    private protected abstract Task<IModelStore> CreateStoreAsync();

    private protected NewModel Model(string id, string? alias = null, ModelStatus status = ModelStatus.Ready, string owner = "", IReadOnlyDictionary<string, string>? tags = null) => new()
    {
        Owner = owner == "" ? Owner : owner,
        ModelId = id,
        SourceType = SourceType.HuggingFace,
        AuthorRepo = "bartowski/llama3.1-7b-gguf",
        Branch = "main",
        ConfigPath = $"models/{id.Replace('/', '_')}.yaml",
        Alias = alias,
        Status = status,
        Tags = tags ?? RegisteredModel.EmptyTags,
    };

    private protected static async Task<RegistryException> Refused(RegistryErrorKind kind, Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<RegistryException>(call);
        Assert.Equal(kind, e.Kind);
        return e;
    }

    [Fact]
    public async Task Register_then_get_by_id_and_by_alias_round_trips_every_field()
    {
        var registered = await Registry.RegisterAsync(Model("org/m.gguf", "mine", tags: new Dictionary<string, string> { ["stage"] = "prod", ["q"] = "4 bit" }), default);

        var byId = await Registry.GetByIdAsync(Owner, "org/m.gguf", default);
        var byAlias = await Registry.GetByAliasAsync(Owner, "mine", default);

        Assert.Equal(1, registered.Version);
        foreach (var read in new[] { byId, byAlias })
        {
            Assert.Equal(registered with { Tags = RegisteredModel.EmptyTags }, read with { Tags = RegisteredModel.EmptyTags });
            Assert.Equal("prod", read.Tags["stage"]);
            Assert.Equal("4 bit", read.Tags["q"]);
        }
    }

    [Fact]
    public async Task Generated_aliases_follow_the_cortex_rule_on_clashes_and_a_chosen_alias_wins()
    {
        var first = await Registry.RegisterAsync(Model(HfId), default);
        var second = await Registry.RegisterAsync(Model("huggingface.co/bartowski/llama3.1-7b-gguf/model_id_XXX.bin"), default);
        var third = await Registry.RegisterAsync(Model("huggingface.co/other/llama3.1-7b-gguf/model_id_xxx.gguf"), default);
        var chosen = await Registry.RegisterAsync(Model("x/model_id_xxx.gguf", alias: "My-Pick"), default);
        var numbered = await Registry.RegisterAsync(Model("model_id_xxx"), default);

        Assert.Equal("model_id_xxx", first.Alias);
        Assert.Equal("llama3.1-7b-gguf:model_id_xxx", second.Alias);
        Assert.Equal("other:llama3.1-7b-gguf:model_id_xxx", third.Alias);
        Assert.Equal("My-Pick", chosen.Alias);
        Assert.Equal("model_id_xxx-2", numbered.Alias);
    }

    [Fact]
    public async Task Duplicate_id_or_alias_is_already_exists_and_aliases_are_per_owner()
    {
        await Registry.RegisterAsync(Model("a", "shared"), default);

        var id = await Refused(RegistryErrorKind.AlreadyExists, () => Registry.RegisterAsync(Model("a", "other"), default));
        var alias = await Refused(RegistryErrorKind.AlreadyExists, () => Registry.RegisterAsync(Model("b", "shared"), default));
        var setAlias = await Refused(RegistryErrorKind.AlreadyExists, async () =>
        {
            await Registry.RegisterAsync(Model("c", "c"), default);
            await Registry.SetAliasAsync(Owner, "c", "shared", 0, default);
        });

        Assert.Contains("'a'", id.Message);
        Assert.Contains("'shared'", alias.Message);
        Assert.Contains("used by model 'a'", setAlias.Message);

        var otherOwner = Owner + "-other";
        var theirs = await Registry.RegisterAsync(Model("a", "shared", owner: otherOwner), default);
        Assert.Equal(otherOwner, theirs.Owner);
        Assert.Equal(Owner, (await Registry.GetByAliasAsync(Owner, "shared", default)).Owner);
        await Refused(RegistryErrorKind.NotFound, () => Registry.GetByIdAsync(Owner, "c-missing", default));
        Assert.DoesNotContain((await Registry.ListAsync(otherOwner, new ModelQuery(), default)).Models, m => m.ModelId == "c");
    }

    [Fact]
    public async Task Update_applies_only_masked_fields_and_a_stale_version_is_aborted()
    {
        var model = await Registry.RegisterAsync(Model("m", "m"), default);

        var updated = await Registry.UpdateAsync(Owner, "m", new ModelPatch { Branch = "dev", Tags = new Dictionary<string, string> { ["k"] = "v" } }, model.Version, default);
        Assert.Equal(2, updated.Version);
        Assert.Equal("dev", updated.Branch);
        Assert.Equal(model.ConfigPath, updated.ConfigPath);
        Assert.Equal("v", (await Registry.GetByIdAsync(Owner, "m", default)).Tags["k"]);

        var stale = await Refused(RegistryErrorKind.Aborted, () => Registry.UpdateAsync(Owner, "m", new ModelPatch { Branch = "x" }, model.Version, default));
        Assert.Contains("version 2", stale.Message);
        Assert.Equal("dev", (await Registry.GetByIdAsync(Owner, "m", default)).Branch);

        await Refused(RegistryErrorKind.InvalidArgument, () => Registry.UpdateAsync(Owner, "m", new ModelPatch(), 2, default));
        await Refused(RegistryErrorKind.InvalidArgument, () => Registry.UpdateAsync(Owner, "m", new ModelPatch { Branch = "x" }, 0, default));
        await Refused(RegistryErrorKind.NotFound, () => Registry.UpdateAsync(Owner, "nope", new ModelPatch { Branch = "x" }, 1, default));
    }

    [Fact]
    public async Task Status_moves_only_by_legal_transitions_and_running_models_resist_delete()
    {
        await Registry.RegisterAsync(Model("m"), default);

        var running = await Registry.SetStatusAsync(Owner, "m", ModelStatus.Running, 1, default);
        Assert.Equal(ModelStatus.Running, running.Status);
        var illegal = await Refused(RegistryErrorKind.FailedPrecondition, () => Registry.SetStatusAsync(Owner, "m", ModelStatus.Running, 0, default));
        Assert.Contains("already RUNNING", illegal.Message);
        await Refused(RegistryErrorKind.InvalidArgument, () => Registry.SetStatusAsync(Owner, "m", (ModelStatus)7, 0, default));

        var blocked = await Refused(RegistryErrorKind.FailedPrecondition, () => Registry.DeleteAsync(Owner, "m", force: false, 0, default));
        Assert.Contains("RUNNING", blocked.Message);
        await Registry.DeleteAsync(Owner, "m", force: true, 0, default);
        await Refused(RegistryErrorKind.NotFound, () => Registry.GetByIdAsync(Owner, "m", default));
    }

    [Fact]
    public async Task Delete_of_a_ready_model_removes_its_tags_and_frees_its_alias()
    {
        await Registry.RegisterAsync(Model("m", "a", tags: new Dictionary<string, string> { ["k"] = "v" }), default);
        await Refused(RegistryErrorKind.Aborted, () => Registry.DeleteAsync(Owner, "m", false, 5, default));
        await Registry.DeleteAsync(Owner, "m", false, 1, default);

        var again = await Registry.RegisterAsync(Model("m", "a"), default);
        Assert.Empty(again.Tags);
        Assert.Empty((await Registry.ListAsync(Owner, new ModelQuery { TagKey = "k" }, default)).Models);
    }

    [Fact]
    public async Task Resolve_tries_the_id_first_then_the_alias()
    {
        await Registry.RegisterAsync(Model("first", "second"), default);
        await Registry.RegisterAsync(Model("second", "third"), default);

        Assert.Equal("second", (await Registry.ResolveAsync(Owner, "second", default)).ModelId);
        Assert.Equal("second", (await Registry.ResolveAsync(Owner, "third", default)).ModelId);
        var e = await Refused(RegistryErrorKind.NotFound, () => Registry.ResolveAsync(Owner, "fourth", default));
        Assert.Contains("'fourth'", e.Message);
    }

    [Fact]
    public async Task Remove_alias_leaves_the_model_reachable_by_id_only()
    {
        await Registry.RegisterAsync(Model("m", "a"), default);
        var removed = await Registry.RemoveAliasAsync(Owner, "m", 0, default);

        Assert.Null(removed.Alias);
        await Refused(RegistryErrorKind.NotFound, () => Registry.GetByAliasAsync(Owner, "a", default));
        Assert.Null((await Registry.GetByIdAsync(Owner, "m", default)).Alias);
        await Registry.RegisterAsync(Model("n", "a"), default);
    }

    [Fact]
    public async Task List_filters_orders_and_pages_without_gaps_or_repeats()
    {
        for (var i = 0; i < 23; i++)
        {
            var model = Model($"m{i:D2}", $"alias{i:D2}", tags: i % 3 == 0 ? new Dictionary<string, string> { ["stage"] = i % 2 == 0 ? "prod" : "dev" } : null) with
            {
                SourceType = i % 2 == 0 ? SourceType.HuggingFace : SourceType.Local,
                AuthorRepo = i < 5 ? "special/repo" : "bartowski/llama",
            };
            await Registry.RegisterAsync(model, default);
        }

        await Registry.SetStatusAsync(Owner, "m07", ModelStatus.Running, 0, default);

        async Task<List<string>> All(ModelQuery query)
        {
            var ids = new List<string>();
            string? token = null;
            do
            {
                var page = await Registry.ListAsync(Owner, query with { PageSize = 4, PageToken = token }, default);
                Assert.True(page.Models.Count <= 4);
                ids.AddRange(page.Models.Select(m => m.ModelId));
                token = page.NextPageToken;
            }
            while (token is not null);
            return ids;
        }

        var all = await All(new ModelQuery());
        Assert.Equal(Enumerable.Range(0, 23).Select(i => $"m{i:D2}"), all);
        Assert.Equal(all.AsEnumerable().Reverse(), await All(new ModelQuery { Descending = true }));
        Assert.Equal(all, await All(new ModelQuery { OrderBy = ModelOrder.CreatedAt }));
        Assert.Equal(["m07"], await All(new ModelQuery { Status = ModelStatus.Running }));
        Assert.Equal(12, (await All(new ModelQuery { SourceType = SourceType.HuggingFace })).Count);
        Assert.Equal(["m00", "m01", "m02", "m03", "m04"], await All(new ModelQuery { AuthorRepo = "special/repo" }));
        Assert.Equal(Enumerable.Range(10, 10).Select(i => $"m{i}"), await All(new ModelQuery { Prefix = "m1", AuthorRepo = "bartowski/llama", Status = ModelStatus.Ready }));
        Assert.Equal(["m20", "m21", "m22"], await All(new ModelQuery { Prefix = "alias2" }));
        Assert.Equal(["m00", "m06", "m12", "m18"], await All(new ModelQuery { TagKey = "stage", TagValue = "prod" }));
        Assert.Equal(["m00", "m03", "m06", "m09", "m12", "m15", "m18", "m21"], await All(new ModelQuery { TagKey = "stage" }));

        var updatedFirst = await All(new ModelQuery { OrderBy = ModelOrder.UpdatedAt, Descending = true });
        Assert.Equal(23, updatedFirst.Distinct().Count());

        var page = await Registry.ListAsync(Owner, new ModelQuery { PageSize = 2 }, default);
        await Refused(RegistryErrorKind.InvalidArgument, () => Registry.ListAsync(Owner, new ModelQuery { PageSize = 2, Status = ModelStatus.Ready, PageToken = page.NextPageToken }, default));
        await Refused(RegistryErrorKind.InvalidArgument, () => Registry.ListAsync(Owner, new ModelQuery { PageToken = "garbage!" }, default));
        await Refused(RegistryErrorKind.InvalidArgument, () => Registry.ListAsync(Owner, new ModelQuery { PageSize = -1 }, default));
        await Refused(RegistryErrorKind.InvalidArgument, () => Registry.ListAsync(Owner, new ModelQuery { SourceType = (SourceType)42 }, default));
        Assert.StartsWith("prefix:", (await Refused(RegistryErrorKind.InvalidArgument, () => Registry.ListAsync(Owner, new ModelQuery { Prefix = "a b" }, default))).Message);
        Assert.Equal(23, (await Registry.ListAsync(Owner, new ModelQuery { PageSize = 100_000 }, default)).Models.Count);
    }

    [Theory]
    [InlineData("", "model_id: must not be empty")]
    [InlineData("has space", "whitespace")]
    [InlineData("ctl\u0007", "control characters")]
    [InlineData("nul\0", "control characters")]
    public async Task Bad_ids_are_invalid_argument_naming_field_and_rule(string id, string rule)
    {
        var e = await Refused(RegistryErrorKind.InvalidArgument, () => Registry.RegisterAsync(Model(id), default));
        Assert.Contains(rule, e.Message);
        Assert.StartsWith("model_id:", e.Message);
    }

    [Fact]
    public async Task Oversized_fields_and_unknown_enums_are_invalid_argument()
    {
        var tooLong = await Refused(RegistryErrorKind.InvalidArgument, () => Registry.RegisterAsync(Model(new string('x', 513)), default));
        Assert.Contains("at most 512", tooLong.Message);
        await Refused(RegistryErrorKind.InvalidArgument, () => Registry.RegisterAsync(Model("m", new string('a', 129)), default));
        await Refused(RegistryErrorKind.InvalidArgument, () => Registry.RegisterAsync(Model("m") with { SourceType = (SourceType)9 }, default));
        await Refused(RegistryErrorKind.InvalidArgument, () => Registry.RegisterAsync(Model("m") with { Owner = "" }, default));
        var tags = Enumerable.Range(0, 33).ToDictionary(i => $"k{i}", i => "v");
        await Refused(RegistryErrorKind.InvalidArgument, () => Registry.RegisterAsync(Model("m", tags: tags), default));
        await Refused(RegistryErrorKind.InvalidArgument, () => Registry.RegisterAsync(Model("m", tags: new Dictionary<string, string> { ["bad key"] = "v" }), default));
        Assert.Empty((await Registry.ListAsync(Owner, new ModelQuery(), default)).Models);
    }

    [Fact]
    public async Task Import_reports_bad_lines_imports_good_ones_and_is_idempotent()
    {
        var file = Encoding.UTF8.GetBytes(
            "huggingface.co/a/b/one.gguf a/b main one.yaml one READY\r\n" +
            "two local imported /m/two.yaml two RUNNING\r\n" +
            "three cortexso/three 1b three.yaml three\r\n" +
            "bad line with seven fields in it\r\n");

        var first = await Registry.ImportModelListAsync(Owner, new MemoryStream(file), ImportMode.BestEffort, default);
        Assert.True(first.Committed);
        Assert.Equal(3, first.Imported);
        Assert.Equal(4, Assert.Single(first.Errors).LineNumber);

        var two = await Registry.GetByAliasAsync(Owner, "two", default);
        Assert.Equal((SourceType.Local, ModelStatus.Running), (two.SourceType, two.Status));
        Assert.Equal(SourceType.CortexSo, (await Registry.GetByIdAsync(Owner, "three", default)).SourceType);

        var before = (await Registry.ListAsync(Owner, new ModelQuery(), default)).Models;
        var second = await Registry.ImportModelListAsync(Owner, new MemoryStream(file), ImportMode.BestEffort, default);
        Assert.Equal((0, 3), (second.Imported, second.Unchanged));
        Assert.Equal(before, (await Registry.ListAsync(Owner, new ModelQuery(), default)).Models, new ModelEquality());
    }

    [Fact]
    public async Task A_large_import_lands_every_row_across_batch_boundaries()
    {
        const int Lines = 1_234;
        var text = string.Concat(Enumerable.Range(0, Lines).Select(i => $"huggingface.co/a/r/m{i:D5}.gguf a/r main c{i}.yaml m{i:D5} {(i % 7 == 0 ? "RUNNING" : "READY")}\n"));

        var report = await Registry.ImportModelListAsync(Owner, new MemoryStream(Encoding.UTF8.GetBytes(text)), ImportMode.AllOrNothing, default);

        Assert.True(report.Committed);
        Assert.Equal(Lines, report.Imported);
        var ids = new List<string>();
        string? token = null;
        do
        {
            var page = await Registry.ListAsync(Owner, new ModelQuery { PageSize = 500, PageToken = token }, default);
            ids.AddRange(page.Models.Select(m => m.ModelId));
            token = page.NextPageToken;
        }
        while (token is not null);

        Assert.Equal(Enumerable.Range(0, Lines).Select(i => $"huggingface.co/a/r/m{i:D5}.gguf"), ids);
        Assert.Equal(Enumerable.Range(0, Lines).Count(i => i % 7 == 0), (await Registry.ListAsync(Owner, new ModelQuery { Status = ModelStatus.Running, PageSize = 500 }, default)).Models.Count);
    }

    [Fact]
    public async Task All_or_nothing_import_imports_nothing_when_any_line_is_bad()
    {
        await Registry.RegisterAsync(Model("taken", "taken-alias"), default);
        var parseError = Encoding.UTF8.GetBytes("a r b c.yaml a READY\nb r b c.yaml b WRONG\n");
        var conflict = Encoding.UTF8.GetBytes("a r b c.yaml a READY\nc r b c.yaml taken-alias READY\n");

        var parsed = await Registry.ImportModelListAsync(Owner, new MemoryStream(parseError), ImportMode.AllOrNothing, default);
        var conflicted = await Registry.ImportModelListAsync(Owner, new MemoryStream(conflict), ImportMode.AllOrNothing, default);

        Assert.False(parsed.Committed);
        Assert.Equal(2, Assert.Single(parsed.Errors).LineNumber);
        Assert.False(conflicted.Committed);
        Assert.Contains("used by model 'taken'", Assert.Single(conflicted.Errors).Reason);
        Assert.Equal(["taken"], (await Registry.ListAsync(Owner, new ModelQuery(), default)).Models.Select(m => m.ModelId));
    }

    [Fact]
    public async Task Import_does_not_overwrite_a_model_registered_differently()
    {
        await Registry.RegisterAsync(Model("m", "m"), default);
        var report = await Registry.ImportModelListAsync(Owner, new MemoryStream("m other/repo main c.yaml m READY\n"u8.ToArray()), ImportMode.BestEffort, default);

        Assert.Contains("different author_repo", Assert.Single(report.Errors).Reason);
        Assert.Equal("bartowski/llama3.1-7b-gguf", (await Registry.GetByIdAsync(Owner, "m", default)).AuthorRepo);
    }

    [Fact]
    public async Task Watch_sees_every_committed_change_of_its_owner_in_order()
    {
        using var watch = Registry.Watch(Owner);
        using var otherWatch = Registry.Watch(Owner + "-other");

        await Registry.RegisterAsync(Model("m"), default);
        await Registry.SetStatusAsync(Owner, "m", ModelStatus.Running, 0, default);
        await Refused(RegistryErrorKind.FailedPrecondition, () => Registry.DeleteAsync(Owner, "m", false, 0, default));
        await Registry.DeleteAsync(Owner, "m", true, 0, default);

        var changes = new List<ModelChange>();
        while (watch.Changes.TryRead(out var change))
        {
            changes.Add(change);
        }

        Assert.Equal([ModelChangeKind.Created, ModelChangeKind.Updated, ModelChangeKind.Deleted], changes.Select(c => c.Kind));
        Assert.Equal([1L, 2L, 2L], changes.Select(c => c.Model.Version));
        Assert.True(changes.Zip(changes.Skip(1)).All(p => p.First.Sequence < p.Second.Sequence));
        Assert.False(otherWatch.Changes.TryRead(out _));
    }

    [Fact]
    public async Task Concurrent_writers_and_readers_lose_no_write()
    {
        const int Writers = 8;
        const int PerWriter = 25;
        await Registry.RegisterAsync(Model("counter"), default);
        using var stop = new CancellationTokenSource();

        var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            var reads = 0;
            do
            {
                await Registry.ListAsync(Owner, new ModelQuery { PageSize = 20 }, default);
                await Registry.GetByIdAsync(Owner, "counter", default);
                reads++;
            }
            while (!stop.IsCancellationRequested);

            return reads;
        })).ToList();

        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < PerWriter; i++)
            {
                await Registry.RegisterAsync(Model($"w{w}-{i}"), default);

                // Optimistic increments: retry on Aborted, exactly as a client would.
                while (true)
                {
                    var current = await Registry.GetByIdAsync(Owner, "counter", default);
                    try
                    {
                        await Registry.UpdateAsync(Owner, "counter", new ModelPatch { Tags = new Dictionary<string, string> { ["n"] = (int.Parse(current.Tags.GetValueOrDefault("n", "0"), System.Globalization.CultureInfo.InvariantCulture) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) } }, current.Version, default);
                        break;
                    }
                    catch (RegistryException e) when (e.Kind == RegistryErrorKind.Aborted)
                    {
                    }
                }
            }
        })).ToList();

        await Task.WhenAll(writers);
        stop.Cancel();
        Assert.All(await Task.WhenAll(readers), reads => Assert.True(reads > 0));

        var counter = await Registry.GetByIdAsync(Owner, "counter", default);
        Assert.Equal((Writers * PerWriter).ToString(System.Globalization.CultureInfo.InvariantCulture), counter.Tags["n"]);
        Assert.Equal(1 + (Writers * PerWriter), counter.Version);
        var listed = await Registry.ListAsync(Owner, new ModelQuery { PageSize = 500 }, default);
        Assert.Equal(1 + (Writers * PerWriter), listed.Models.Count);
    }

    private sealed class ModelEquality : IEqualityComparer<RegisteredModel>
    {
        public bool Equals(RegisteredModel? x, RegisteredModel? y) =>
            x is not null && y is not null && (x with { Tags = RegisteredModel.EmptyTags }) == (y with { Tags = RegisteredModel.EmptyTags }) && x.Tags.Count == y.Tags.Count;

        public int GetHashCode(RegisteredModel obj) => obj.ModelId.GetHashCode(StringComparison.Ordinal);
    }
}
