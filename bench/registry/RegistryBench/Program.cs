using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microservices.Registry;
using Microservices.Registry.Changes;
using Microservices.Registry.Import;
using Microservices.Registry.Repositories;

// Import of a generated model.list (LINES lines, default 100,000) into a fresh SQLite registry,
// against the sqlite3 command-line tool inserting the same rows into the same schema in one
// transaction. Each side runs ROUNDS times (default 3) on fresh databases; the median counts.
var lines = int.Parse(Environment.GetEnvironmentVariable("LINES") ?? "100000", CultureInfo.InvariantCulture);
var rounds = int.Parse(Environment.GetEnvironmentVariable("ROUNDS") ?? "3", CultureInfo.InvariantCulture);
var sqlite3 = Environment.GetEnvironmentVariable("SQLITE3") ?? "/usr/bin/sqlite3";
if (!File.Exists(sqlite3))
{
    Console.Error.WriteLine($"sqlite3 is missing at {sqlite3}. Install it: apt-get update && apt-get install -y sqlite3");
    return 2;
}

var work = Directory.CreateTempSubdirectory("registry-bench-").FullName;
try
{
    var modelList = Path.Combine(work, "model.list");
    await File.WriteAllTextAsync(modelList, Generate(lines));
    var sqlScript = Path.Combine(work, "insert.sql");
    await File.WriteAllTextAsync(sqlScript, InsertScript(modelList, lines));
    Console.Error.WriteLine($"generated {lines} lines ({new FileInfo(modelList).Length / 1024} KiB) in {work}");

    // For the reader of the numbers: how much of the import is reading and parsing alone.
    var parseWatch = Stopwatch.StartNew();
    var parsed = ModelListParser.Parse(await File.ReadAllBytesAsync(modelList), "bench");
    Console.Error.WriteLine($"read+parse alone: {parseWatch.Elapsed.TotalSeconds:F3} s ({parsed.Rows.Count} rows)");

    var ours = new List<double>();
    var theirs = new List<double>();
    var oursCpu = new List<double>();
    var theirsCpu = new List<double>();
    for (var round = 1; round <= rounds; round++)
    {
        // Ours: the whole import path (read, parse, validate, infer, one transaction).
        var ourDb = Path.Combine(work, $"ours-{round}.db");
        await using (var store = new SqliteModelStore(new SqliteStoreOptions { Path = ourDb }))
        {
            await store.InitializeAsync(default);
            var registry = new ModelRegistry(store, new ModelChangeFeed(), TimeProvider.System);
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            var report = await registry.ImportModelListFileAsync("bench", modelList, ImportMode.BestEffort, default);
            ours.Add(watch.Elapsed.TotalSeconds);
            oursCpu.Add((Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds);
            if (report.Imported != lines || report.Errors.Count != 0)
            {
                throw new InvalidOperationException($"import imported {report.Imported} of {lines}, {report.Errors.Count} errors");
            }
        }

        // Peer: the same schema (created by our migrations, WAL), rows inserted by sqlite3 in one transaction.
        var peerDb = Path.Combine(work, $"sqlite3-{round}.db");
        await using (var store = new SqliteModelStore(new SqliteStoreOptions { Path = peerDb }))
        {
            await store.InitializeAsync(default);
        }

        var peerWatch = Stopwatch.StartNew();
        theirsCpu.Add(await RunSqlite3Async(sqlite3, peerDb, sqlScript));
        theirs.Add(peerWatch.Elapsed.TotalSeconds);
        await RunSqlite3Async(sqlite3, peerDb, null, $"SELECT count(*) FROM models", expect: lines.ToString(CultureInfo.InvariantCulture));

        Console.Error.WriteLine($"round {round}: ours {ours[^1]:F3} s ({oursCpu[^1]:F3} s CPU), sqlite3 {theirs[^1]:F3} s ({theirsCpu[^1]:F3} s CPU)");
    }

    var ourMedian = Median(ours);
    var theirMedian = Median(theirs);
    var ourCpu = Median(oursCpu);
    var theirCpu = Median(theirsCpu);
    Console.WriteLine($"| rows | measure (median of {rounds}) | registry import | sqlite3 CLI, one transaction | ratio |");
    Console.WriteLine("|---|---|---|---|---|");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {lines} | wall clock | {ourMedian:F3} s | {theirMedian:F3} s | {ourMedian / theirMedian:F2}x |"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {lines} | CPU time (user+sys) | {ourCpu:F3} s | {theirCpu:F3} s | {ourCpu / theirCpu:F2}x |"));
    var key = lines == 100_000 ? "import_100k" : $"import_{lines}";
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{key}_s={ourMedian:F3} sqlite3_s={theirMedian:F3} import_vs_sqlite3={ourMedian / theirMedian:F2} {key}_cpu_s={ourCpu:F3} sqlite3_cpu_s={theirCpu:F3} import_vs_sqlite3_cpu={ourCpu / theirCpu:F2}"));
    return 0;
}
finally
{
    Directory.Delete(work, recursive: true);
}

static string Generate(int count)
{
    var text = new StringBuilder(count * 160);
    for (var i = 0; i < count; i++)
    {
        var author = $"author{i % 997}";
        var repo = $"model{i % 4999}-7b-gguf";
        var status = i % 10 == 0 ? "RUNNING" : "READY";
        if (i % 20 == 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"local-model-{i} local imported /models/local-{i}/model.yaml local-{i} {status}\n");
        }
        else
        {
            text.Append(CultureInfo.InvariantCulture,
                $"huggingface.co/{author}/{repo}/Model-{i}.Q4_K_M.gguf {author}/{repo} main models/{author}/{repo}/model-{i}.yaml model-{i}-q4_k_m {status}\n");
        }
    }

    return text.ToString();
}

// The same rows, values and schema our import writes: one INSERT per row in one transaction.
static string InsertScript(string modelList, int count)
{
    var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    var sql = new StringBuilder(count * 300);
    // The same connection settings the registry's import uses (SqliteModelStore).
    sql.Append(CultureInfo.InvariantCulture, $"PRAGMA synchronous = NORMAL;\nPRAGMA cache_size = -{SqliteModelStore.BulkCacheKib};\nBEGIN IMMEDIATE;\n");
    foreach (var line in File.ReadLines(modelList))
    {
        var f = line.Split(' ');
        var source = f[1] == "local" ? "local" : "huggingface";
        sql.Append(CultureInfo.InvariantCulture,
            $"INSERT INTO models (owner, model_id, source_type, author_repo, branch, config_path, alias, status, version, created_at, updated_at) VALUES ('bench', '{f[0]}', '{source}', '{f[1]}', '{f[2]}', '{f[3]}', '{f[4]}', '{f[5]}', 1, {now}, {now});\n");
    }

    sql.Append("COMMIT;\n");
    return sql.ToString();
}

// Returns the CPU time sqlite3 used.
static async Task<double> RunSqlite3Async(string sqlite3, string database, string? script, string? sql = null, string? expect = null)
{
    var info = new ProcessStartInfo(sqlite3) { RedirectStandardInput = script is not null, RedirectStandardOutput = true, RedirectStandardError = true };
    info.ArgumentList.Add("-bail");
    info.ArgumentList.Add(database);
    if (sql is not null)
    {
        info.ArgumentList.Add(sql);
    }

    var childCpuBefore = ChildrenCpu.Seconds();
    using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start sqlite3");
    if (script is not null)
    {
        // Streamed from the file as a shell's `sqlite3 db < insert.sql` would be.
        await using (var input = File.OpenRead(script))
        {
            await input.CopyToAsync(process.StandardInput.BaseStream);
        }

        process.StandardInput.Close();
    }

    var output = await process.StandardOutput.ReadToEndAsync();
    var error = await process.StandardError.ReadToEndAsync();
    await process.WaitForExitAsync();
    if (process.ExitCode != 0 || (expect is not null && output.Trim() != expect))
    {
        throw new InvalidOperationException($"sqlite3 failed ({process.ExitCode}): {error} {output}");
    }

    // Linux forgets an exited process's times; the parent's RUSAGE_CHILDREN keeps them once reaped.
    return ChildrenCpu.Seconds() - childCpuBefore;
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted[sorted.Count / 2];
}
