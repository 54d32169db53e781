using System.Runtime.CompilerServices;
using Microservices.Registry.Changes;
using Microservices.Registry.Import;
using Microservices.Registry.Models;
using Microservices.Registry.Repositories;

namespace Microservices.Registry.Tests;

/// <summary>ImportModels (the export service's import) and List's total count, on both stores.</summary>
public abstract partial class ModelStoreContract
{
    private static readonly DateTimeOffset Created = new(2021, 3, 4, 5, 6, 7, 891, TimeSpan.Zero);
    private static readonly DateTimeOffset Updated = new(2022, 8, 9, 10, 11, 12, 345, TimeSpan.Zero);

    private protected ModelToImport Archived(string id, string? alias = null, IReadOnlyDictionary<string, string>? tags = null, DateTimeOffset? created = null, DateTimeOffset? updated = null) =>
        new(Model(id, alias, tags: tags), created, updated);

    private protected Task<ModelImportReport> ImportAsync(IEnumerable<ModelToImport> models, bool dryRun = false, string owner = "") =>
        Registry.ImportModelsAsync(owner == "" ? Owner : owner, Messages(models.ToList()), dryRun, default);

    private protected async Task<List<RegisteredModel>> AllAsync(string owner = "")
    {
        var all = new List<RegisteredModel>();
        string? token = null;
        do
        {
            var page = await Registry.ListAsync(owner == "" ? Owner : owner, new ModelQuery { PageSize = 500, PageToken = token }, default);
            all.AddRange(page.Models);
            token = page.NextPageToken;
        }
        while (token is not null);
        return all;
    }

    // As the handler hands them over: at most 500 models per message.
    private static async IAsyncEnumerable<IReadOnlyList<ModelToImport>> Messages(IReadOnlyList<ModelToImport> models)
    {
        for (var start = 0; start < models.Count || start == 0; start += ModelImportLimits.MaxModelsPerMessage)
        {
            await Task.Yield();
            yield return models.Skip(start).Take(ModelImportLimits.MaxModelsPerMessage).ToList();
        }
    }

    [Fact]
    public async Task ImportModels_into_an_empty_owner_writes_every_model_at_version_1_with_its_timestamps()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        var report = await ImportAsync(
        [
            Archived("org/a.gguf", "a", new Dictionary<string, string> { ["stage"] = "prod" }, Created, Updated),
            Archived("org/b.gguf", "b", created: Created) with { Model = Model("org/b.gguf", "b", ModelStatus.Running) with { SourceType = SourceType.Local } },
            Archived("org/c.gguf"),
        ]);

        Assert.Equal((true, 3, 0, 0), (report.Committed, report.Imported, report.Unchanged, report.ConflictCount));
        var a = await Registry.GetByAliasAsync(Owner, "a", default);
        Assert.Equal((1L, Created, Updated), (a.Version, a.CreatedAt, a.UpdatedAt));
        Assert.Equal("prod", a.Tags["stage"]);
        var b = await Registry.GetByIdAsync(Owner, "org/b.gguf", default);
        Assert.Equal((ModelStatus.Running, SourceType.Local, Created), (b.Status, b.SourceType, b.CreatedAt));
        Assert.InRange(b.UpdatedAt, before, DateTimeOffset.UtcNow.AddSeconds(1));
        var c = await Registry.GetByIdAsync(Owner, "org/c.gguf", default);
        Assert.Equal("c", c.Alias);
        Assert.InRange(c.CreatedAt, before, DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.Equal(c.CreatedAt, c.UpdatedAt);
    }

    [Fact]
    public async Task ImportModels_twice_changes_nothing_the_second_time()
    {
        var models = Enumerable.Range(0, 12)
            .Select(i => Archived($"org/m{i:D2}.gguf", i % 3 == 0 ? null : $"alias{i}", i % 2 == 0 ? new Dictionary<string, string> { ["k"] = $"v{i}" } : null, Created, i % 4 == 0 ? null : Updated))
            .ToList();
        Assert.Equal(12, (await ImportAsync(models)).Imported);
        var before = await AllAsync();

        var again = await ImportAsync(models);

        Assert.Equal((true, 0, 12, 0), (again.Committed, again.Imported, again.Unchanged, again.ConflictCount));
        Assert.Equal(before, await AllAsync(), new ModelEquality());
        Assert.All(await AllAsync(), m => Assert.Equal(1, m.Version));
    }

    [Fact]
    public async Task ImportModels_with_a_model_registered_differently_is_MODEL_EXISTS_and_writes_nothing()
    {
        await Registry.RegisterAsync(Model("org/a.gguf", "a", tags: new Dictionary<string, string> { ["k"] = "v" }), default);
        var before = await AllAsync();

        var report = await ImportAsync(
        [
            Archived("org/new.gguf", "new"),
            new(Model("org/a.gguf", "a", tags: new Dictionary<string, string> { ["k"] = "other" }) with { Branch = "dev" }, null, null),
        ]);

        Assert.False(report.Committed);
        Assert.Equal((1, 0, 1), (report.Imported, report.Unchanged, report.ConflictCount));
        var conflict = Assert.Single(report.Conflicts);
        Assert.Equal(("org/a.gguf", "a", ModelConflictKind.ModelExists), (conflict.ModelId, conflict.Alias, conflict.Kind));
        Assert.Contains("branch, tags", conflict.Message);
        Assert.Equal(before, await AllAsync(), new ModelEquality());
    }

    [Fact]
    public async Task ImportModels_of_a_new_model_whose_alias_another_model_holds_is_ALIAS_TAKEN_and_writes_nothing()
    {
        await Registry.RegisterAsync(Model("org/holder.gguf", "wanted"), default);

        var report = await ImportAsync([Archived("org/fine.gguf", "fine"), Archived("org/newcomer.gguf", "wanted")]);

        Assert.False(report.Committed);
        var conflict = Assert.Single(report.Conflicts);
        Assert.Equal(("org/newcomer.gguf", "wanted", ModelConflictKind.AliasTaken), (conflict.ModelId, conflict.Alias, conflict.Kind));
        Assert.Contains("used by model 'org/holder.gguf'", conflict.Message);
        Assert.Equal(["org/holder.gguf"], (await AllAsync()).Select(m => m.ModelId));
    }

    [Fact]
    public async Task ImportModels_dry_run_reports_what_the_run_would_do_and_writes_nothing()
    {
        await Registry.RegisterAsync(Model("org/same.gguf", "same"), default);
        await Registry.RegisterAsync(Model("org/holder.gguf", "held"), default);
        var before = await AllAsync();
        using var watch = Registry.Watch(Owner);
        ModelToImport[] clean = [Archived("org/same.gguf", "same"), Archived("org/new.gguf")];
        ModelToImport[] conflicting = [.. clean, Archived("org/same-alias.gguf", "held"), new(Model("org/holder.gguf") with { ConfigPath = "moved.yaml" }, null, null)];

        var dryClean = await ImportAsync(clean, dryRun: true);
        var dryConflicting = await ImportAsync(conflicting, dryRun: true);
        Assert.Equal(before, await AllAsync(), new ModelEquality());
        Assert.False(watch.Changes.TryRead(out _));
        var realConflicting = await ImportAsync(conflicting);
        Assert.Equal(before, await AllAsync(), new ModelEquality());

        Assert.Equal((false, 1, 1, 0), (dryClean.Committed, dryClean.Imported, dryClean.Unchanged, dryClean.ConflictCount));
        Assert.Equal((false, 1, 1, 2), (dryConflicting.Committed, dryConflicting.Imported, dryConflicting.Unchanged, dryConflicting.ConflictCount));
        Assert.Equal(
            (realConflicting.Committed, realConflicting.Imported, realConflicting.Unchanged, realConflicting.ConflictCount),
            (dryConflicting.Committed, dryConflicting.Imported, dryConflicting.Unchanged, dryConflicting.ConflictCount));
        Assert.Equal(realConflicting.Conflicts, dryConflicting.Conflicts);
        Assert.Equal([ModelConflictKind.AliasTaken, ModelConflictKind.ModelExists], dryConflicting.Conflicts.Select(c => c.Kind));
        Assert.Contains("config_path", dryConflicting.Conflicts[1].Message);
        Assert.False(watch.Changes.TryRead(out _));

        var real = await ImportAsync(clean);
        Assert.Equal((true, dryClean.Imported, dryClean.Unchanged), (real.Committed, real.Imported, real.Unchanged));
    }

    [Fact]
    public async Task ImportModels_of_one_owner_neither_sees_nor_conflicts_with_another_owners_models()
    {
        var otherOwner = Owner + "-b";
        await Registry.RegisterAsync(Model("org/m.gguf", "m"), default);
        await Registry.RegisterAsync(Model("org/holder.gguf", "wanted"), default);
        var mine = await AllAsync();

        var report = await ImportAsync([new(Model("org/m.gguf", "m") with { Branch = "theirs" }, null, null), Archived("org/other.gguf", "wanted"), Archived("org/holder.gguf")], owner: otherOwner);

        Assert.Equal((true, 3, 0, 0), (report.Committed, report.Imported, report.Unchanged, report.ConflictCount));
        Assert.Equal(mine, await AllAsync(), new ModelEquality());
        var theirs = await AllAsync(otherOwner);
        Assert.Equal(["org/holder.gguf", "org/m.gguf", "org/other.gguf"], theirs.Select(m => m.ModelId));
        Assert.All(theirs, m => Assert.Equal(otherOwner, m.Owner));
        Assert.Equal("holder", theirs[0].Alias);
        Assert.Equal("theirs", theirs[1].Branch);
    }

    [Fact]
    public async Task ImportModels_takes_the_owner_of_the_call_not_of_each_model()
    {
        var report = await ImportAsync([new(Model("org/m.gguf", "m", owner: "someone-else"), null, null)]);

        Assert.True(report.Committed);
        Assert.Equal(Owner, (await Registry.GetByIdAsync(Owner, "org/m.gguf", default)).Owner);
        Assert.Empty(await AllAsync("someone-else"));
    }

    [Fact]
    public async Task ImportModels_generates_missing_aliases_exactly_as_registering_one_by_one_would()
    {
        // Ids whose candidates clash with each other and with models already there.
        string[] ids =
        [
            "model.gguf", "x/model.gguf", "r/x/model.gguf", "q/r/x/model.gguf", "s/x/model.gguf",
            "a/MODEL.bin", "b/x/model.gguf", "t/r/x/model.gguf", "huggingface.co/model-2", "model.bin", "model",
        ];
        var registered = Owner + "-registered";
        foreach (var owner in new[] { Owner, registered })
        {
            await Registry.RegisterAsync(Model("pre/taken.gguf", "x:model", owner: owner), default);
            await Registry.RegisterAsync(Model("pre/also.gguf", "model-3", owner: owner), default);
        }

        foreach (var id in ids)
        {
            await Registry.RegisterAsync(Model(id, owner: registered), default);
        }

        var report = await ImportAsync(ids.Select(id => Archived(id)));

        Assert.Equal(ids.Length, report.Imported);
        Assert.Equal(
            (await AllAsync(registered)).Select(m => (m.ModelId, m.Alias)),
            (await AllAsync()).Select(m => (m.ModelId, m.Alias)));
    }

    [Fact]
    public async Task ImportModels_never_generates_an_alias_that_a_later_model_of_the_call_asks_for()
    {
        var report = await ImportAsync([Archived("org/model.gguf"), Archived("org/other.gguf", "model")]);

        Assert.True(report.Committed);
        Assert.Equal("org:model", (await Registry.GetByIdAsync(Owner, "org/model.gguf", default)).Alias);
        Assert.Equal("org/other.gguf", (await Registry.GetByAliasAsync(Owner, "model", default)).ModelId);
    }

    [Fact]
    public async Task ImportModels_across_query_chunks_counts_every_model_once()
    {
        const int Count = 1_234;
        var models = Enumerable.Range(0, Count).Select(i => Archived($"huggingface.co/a/r/m{i:D5}.gguf", i % 2 == 0 ? $"m{i:D5}" : null)).ToList();
        Assert.Equal(600, (await ImportAsync(models.Where((_, i) => i < 600))).Imported);

        var report = await ImportAsync(models);

        Assert.Equal((true, Count - 600, 600), (report.Committed, report.Imported, report.Unchanged));
        var all = await AllAsync();
        Assert.Equal(models.Select(m => m.Model.ModelId), all.Select(m => m.ModelId));
        Assert.Equal(Count, all.Select(m => m.Alias).Distinct().Count());
    }

    [Fact]
    public async Task ImportModels_lists_at_most_100_conflicts_and_counts_them_all()
    {
        var models = Enumerable.Range(0, 150).Select(i => Archived($"org/m{i:D3}.gguf")).ToList();
        await ImportAsync(models);

        var report = await ImportAsync(models.Select(m => m with { Model = m.Model with { Branch = "moved" } }));

        Assert.Equal((false, 150, 100), (report.Committed, report.ConflictCount, report.Conflicts.Count));
        Assert.Equal(models.Take(100).Select(m => m.Model.ModelId), report.Conflicts.Select(c => c.ModelId));
    }

    [Fact]
    public async Task ImportModels_publishes_a_created_change_per_imported_model_only_when_it_commits()
    {
        await Registry.RegisterAsync(Model("org/present.gguf", "present"), default);
        using var watch = Registry.Watch(Owner);
        using var otherWatch = Registry.Watch(Owner + "-other");

        await ImportAsync([Archived("org/present.gguf", "present"), Archived("org/a.gguf", "a", created: Created), Archived("org/b.gguf", "b")]);

        var changes = new List<ModelChange>();
        while (watch.Changes.TryRead(out var change))
        {
            changes.Add(change);
        }

        Assert.Equal([("org/a.gguf", ModelChangeKind.Created), ("org/b.gguf", ModelChangeKind.Created)], changes.Select(c => (c.ModelId, c.Kind)));
        Assert.All(changes, c => Assert.Equal(1, c.Model.Version));
        Assert.Equal(Created, changes[0].Model.CreatedAt);
        Assert.True(changes[0].CommittedAt > Created);
        Assert.False(otherWatch.Changes.TryRead(out _));
    }

    [Fact]
    public async Task ImportModels_whose_stream_breaks_off_midway_writes_nothing()
    {
        using var watch = Registry.Watch(Owner);

        await Assert.ThrowsAsync<IOException>(() => Registry.ImportModelsAsync(Owner, BreaksAfterOneMessage(), false, default));

        Assert.Empty(await AllAsync());
        Assert.False(watch.Changes.TryRead(out _));

        async IAsyncEnumerable<IReadOnlyList<ModelToImport>> BreaksAfterOneMessage([EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            yield return [Archived("org/a.gguf"), Archived("org/b.gguf")];
            await Task.Delay(10, cancellationToken);
            throw new IOException("the client went away");
        }
    }

    [Fact]
    public async Task ImportModels_refuses_bad_input_naming_the_model_and_field_and_writes_nothing()
    {
        var badBranch = await Refused(RegistryErrorKind.InvalidArgument, () => ImportAsync([Archived("org/a.gguf"), new(Model("org/b.gguf") with { Branch = "has space" }, null, null)]));
        Assert.StartsWith("models[1].branch: must not contain whitespace", badBranch.Message);
        Assert.Contains("(model_id 'org/b.gguf')", badBranch.Message);

        var badId = await Refused(RegistryErrorKind.InvalidArgument, () => ImportAsync([Archived("")]));
        Assert.Equal("models[0].model_id: must not be empty", badId.Message);

        var badTag = await Refused(RegistryErrorKind.InvalidArgument, () => ImportAsync([Archived("org/a.gguf", tags: new Dictionary<string, string> { ["bad key"] = "v" })]));
        Assert.StartsWith("models[0].tags:", badTag.Message);

        var duplicateId = await Refused(RegistryErrorKind.InvalidArgument, () => ImportAsync([Archived("org/a.gguf"), Archived("org/b.gguf"), Archived("org/a.gguf")]));
        Assert.Equal("models[2].model_id: 'org/a.gguf' is also models[0]; a model_id may appear once per call", duplicateId.Message);

        var duplicateAlias = await Refused(RegistryErrorKind.InvalidArgument, () => ImportAsync([Archived("org/a.gguf", "same"), Archived("org/b.gguf", "same")]));
        Assert.StartsWith("models[1].alias: 'same' is also the alias of models[0]", duplicateAlias.Message);

        var badOwner = await Refused(RegistryErrorKind.InvalidArgument, () => ImportAsync([Archived("org/a.gguf")], owner: "has space"));
        Assert.StartsWith("owner:", badOwner.Message);

        var oversized = await Refused(RegistryErrorKind.InvalidArgument, () => Registry.ImportModelsAsync(Owner, OneMessage(501), false, default));
        Assert.StartsWith("models: at most 500 models per message, got 501", oversized.Message);

        Assert.Empty(await AllAsync());

        async IAsyncEnumerable<IReadOnlyList<ModelToImport>> OneMessage(int count)
        {
            await Task.Yield();
            yield return Enumerable.Range(0, count).Select(i => Archived($"org/m{i}.gguf")).ToList();
        }
    }

    [Fact]
    public async Task ImportModels_over_100000_models_is_resource_exhausted_before_the_rest_is_read()
    {
        var messagesRead = 0;
        var e = await Refused(RegistryErrorKind.ResourceExhausted, () => Registry.ImportModelsAsync(Owner, Endless(), false, default));

        Assert.Contains("at most 100000 models", e.Message);
        Assert.Equal(201, messagesRead);
        Assert.Empty(await AllAsync());

        async IAsyncEnumerable<IReadOnlyList<ModelToImport>> Endless()
        {
            for (var message = 0; ; message++)
            {
                await Task.Yield();
                messagesRead++;
                yield return Enumerable.Range(0, 500).Select(i => Archived($"org/m{message}-{i}.gguf")).ToList();
            }
        }
    }

    [Fact]
    public async Task List_counts_every_match_of_its_filters_on_every_page_only_when_asked()
    {
        for (var i = 0; i < 7; i++)
        {
            await Registry.RegisterAsync(Model($"m{i}", $"alias{i}", i < 3 ? ModelStatus.Running : ModelStatus.Ready, tags: i % 2 == 0 ? new Dictionary<string, string> { ["even"] = "yes" } : null), default);
        }

        await Registry.RegisterAsync(Model("other", owner: Owner + "-other"), default);

        var first = await Registry.ListAsync(Owner, new ModelQuery { PageSize = 2, IncludeTotalCount = true }, default);
        var second = await Registry.ListAsync(Owner, new ModelQuery { PageSize = 2, IncludeTotalCount = true, PageToken = first.NextPageToken }, default);
        Assert.Equal((2, 7L), (first.Models.Count, first.TotalCount));
        Assert.Equal(7, second.TotalCount);
        Assert.Null((await Registry.ListAsync(Owner, new ModelQuery { PageSize = 2 }, default)).TotalCount);

        async Task<long?> Count(ModelQuery query) => (await Registry.ListAsync(Owner, query with { PageSize = 1, IncludeTotalCount = true }, default)).TotalCount;
        Assert.Equal(3, await Count(new ModelQuery { Status = ModelStatus.Running }));
        Assert.Equal(4, await Count(new ModelQuery { TagKey = "even" }));
        Assert.Equal(2, await Count(new ModelQuery { TagKey = "even", Status = ModelStatus.Running }));
        Assert.Equal(7, await Count(new ModelQuery { Prefix = "alias" }));
        Assert.Equal(1, await Count(new ModelQuery { Prefix = "m6" }));
        Assert.Equal(0, await Count(new ModelQuery { AuthorRepo = "nobody/none" }));
        Assert.Equal(0, (await Registry.ListAsync(Owner + "-nobody", new ModelQuery { IncludeTotalCount = true }, default)).TotalCount);
    }

    [Fact]
    public async Task An_owner_at_the_model_quota_can_add_nothing_by_any_write_and_other_owners_are_not_held_back()
    {
        ((SqlModelStore)Store).MaxModelsPerOwner = 3;
        await Registry.RegisterAsync(Model("org/one.gguf"), default);
        Assert.True((await ImportAsync([Archived("org/two.gguf")])).Committed);

        // Two more would be four: the whole import is refused, not cut to fit.
        var import = await Refused(RegistryErrorKind.ResourceExhausted, () => ImportAsync([Archived("org/three.gguf"), Archived("org/four.gguf")]));
        Assert.Equal($"owner '{Owner}' has 2 models; 2 more would pass the quota of 3 (Registry:Limits:MaxModelsPerOwner); nothing was written", import.Message);
        var list = await Refused(RegistryErrorKind.ResourceExhausted, () => Registry.ImportModelListAsync(
            Owner, new MemoryStream("a cortexso/a 1b a.yaml a\nb cortexso/b 1b b.yaml b\n"u8.ToArray()), ImportMode.BestEffort, default));
        Assert.Contains("2 more would pass the quota of 3", list.Message, StringComparison.Ordinal);
        Assert.Equal(2, (await AllAsync()).Count);

        await Registry.RegisterAsync(Model("org/three.gguf"), default);
        await Refused(RegistryErrorKind.ResourceExhausted, () => Registry.RegisterAsync(Model("org/four.gguf"), default));
        Assert.Equal(3, (await AllAsync()).Count);

        await Registry.RegisterAsync(Model("org/four.gguf", owner: Owner + "-other"), default);
    }

    [Fact]
    public async Task Concurrent_writes_of_one_owner_never_pass_the_model_quota_together()
    {
        ((SqlModelStore)Store).MaxModelsPerOwner = 5;
        using var start = new SemaphoreSlim(0);
        var writes = Enumerable.Range(0, 12).Select(i => Task.Run(async () =>
        {
            await start.WaitAsync();
            try
            {
                if (i % 2 == 0)
                {
                    await Registry.RegisterAsync(Model($"org/r{i}.gguf"), default);
                }
                else
                {
                    await ImportAsync([Archived($"org/i{i}.gguf")]);
                }

                return true;
            }
            catch (RegistryException e) when (e.Kind == RegistryErrorKind.ResourceExhausted)
            {
                return false;
            }
        })).ToList();
        start.Release(writes.Count);
        var added = (await Task.WhenAll(writes)).Count(ok => ok);

        Assert.Equal(5, added);
        Assert.Equal(5, (await AllAsync()).Count);
    }
}
