using Microservices.Registry.Cli;
using Microservices.Registry.Tests.Grpc;
using Microservices.TestSupport;
using Spectre.Console;

namespace Microservices.Registry.Tests.Cli;

/// <summary>The `registry` CLI run in-process against a real host, its output recorded.</summary>
public sealed class CliTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private RegistryHost _host = null!;

    public async Task InitializeAsync()
    {
        _host = await RegistryHost.StartAsync(_directory.File("registry.db"));
        await _host.Client.RegisterAsync(Rpc.NewModel("alice", "huggingface.co/bartowski/llama3.1-7b-gguf/Llama.gguf", alias: "llama"), Rpc.Timeout);
        await _host.Client.RegisterAsync(Rpc.NewModel("alice", "cortex.so/tinyllama", alias: "tiny"), Rpc.Timeout);
        await _host.Client.RegisterAsync(Rpc.NewModel("bob", "bobs-model"), Rpc.Timeout);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task List_prints_a_sorted_table_with_timestamps_of_the_owners_models_only()
    {
        var (exit, output) = await RunAsync("list", "--sort", "id", "--desc");
        Assert.Equal(0, exit);
        Assert.Contains("ALIAS", output);
        Assert.Contains("2 model(s)", output);
        Assert.DoesNotContain("bobs-model", output);
        Assert.True(output.IndexOf("huggingface.co/", StringComparison.Ordinal) < output.IndexOf("cortex.so/tinyllama", StringComparison.Ordinal), output);
        Assert.Matches(@"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ", output);

        var (_, ascending) = await RunAsync("list");
        Assert.True(ascending.IndexOf("cortex.so/tinyllama", StringComparison.Ordinal) < ascending.IndexOf("huggingface.co/", StringComparison.Ordinal), ascending);
    }

    [Fact]
    public async Task Show_finds_by_alias()
    {
        var (exit, output) = await RunAsync("show", "tiny");
        Assert.Equal(0, exit);
        Assert.Contains("cortex.so/tinyllama", output);
        Assert.Contains("READY", output);

        var (missing, error) = await RunAsync("show", "nope");
        Assert.Equal(1, missing);
        Assert.Contains("NotFound", error);
        Assert.Contains("'nope'", error);
    }

    [Fact]
    public async Task Import_prints_the_per_line_report()
    {
        var file = _directory.File("model.list");
        await File.WriteAllTextAsync(file, "cortex.so/mistral cortexso/mistral main m.yaml mistral READY\n\nthree fields only\n");
        var (exit, output) = await RunAsync("import", file);
        Assert.Equal(2, exit);
        Assert.Contains("imported: 1 new, 0 unchanged, 1 blank line(s), 1 bad line(s)", output);
        Assert.Contains("line 3:", output);

        var (again, second) = await RunAsync("import", file);
        Assert.Equal(2, again);
        Assert.Contains("0 new, 1 unchanged", second);
    }

    [Fact]
    public async Task Alias_sets_and_removes()
    {
        var (exit, output) = await RunAsync("alias", "tiny", "tl");
        Assert.Equal(0, exit);
        Assert.Contains("alias is now 'tl'", output);
        Assert.Equal("cortex.so/tinyllama", (await _host.Client.GetByAliasAsync("alice", "tl")).ModelId);

        (exit, output) = await RunAsync("alias", "tl", "--remove");
        Assert.Equal(0, exit);
        Assert.Equal("", (await _host.Client.GetByIdAsync("alice", "cortex.so/tinyllama")).Alias);

        var (taken, error) = await RunAsync("alias", "cortex.so/tinyllama", "llama");
        Assert.Equal(1, taken);
        Assert.Contains("AlreadyExists", error);
    }

    [Fact]
    public async Task Rm_asks_first_and_yes_skips_the_question()
    {
        var (declined, output) = await RunWithInputAsync("n\n", "rm", "tiny");
        Assert.Equal(1, declined);
        Assert.Contains("Delete cortex.so/tinyllama", output);
        Assert.Contains("Not deleted.", output);
        Assert.Equal("tiny", (await _host.Client.GetByAliasAsync("alice", "tiny")).Alias);

        var (confirmed, _) = await RunWithInputAsync("y\n", "rm", "tiny");
        Assert.Equal(0, confirmed);

        var (skipped, quiet) = await RunWithInputAsync("", "rm", "llama", "--yes");
        Assert.Equal(0, skipped);
        Assert.DoesNotContain("[y/N]", quiet);
        var (_, list) = await RunAsync("list");
        Assert.Contains("No models for owner 'alice'", list);
    }

    [Fact]
    public async Task Backup_reports_the_copy()
    {
        var destination = _directory.File("backup.db");
        var (exit, output) = await RunAsync("backup", destination);
        Assert.Equal(0, exit);
        Assert.Contains($"Backed up to {destination}", output);
        Assert.True(new FileInfo(destination).Length > 0);
    }

    [Fact]
    public async Task An_unreachable_service_is_a_clear_error()
    {
        var (exit, output) = await RunAsync("", ["list", "--address", "http://127.0.0.1:1", "--timeout", "5"], withHost: false);
        Assert.Equal(1, exit);
        Assert.Contains("Unavailable", output);
    }

    private Task<(int Exit, string Output)> RunAsync(params string[] args) => RunAsync("", args, withHost: true);

    private Task<(int Exit, string Output)> RunWithInputAsync(string input, params string[] args) => RunAsync(input, args, withHost: true);

    private async Task<(int Exit, string Output)> RunAsync(string input, string[] args, bool withHost)
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 240;
        string[] common = withHost ? ["--address", _host.Address, "--owner", "alice"] : [];
        var exit = await RegistryCli.RunAsync([.. args, .. common], console, new StringReader(input), CancellationToken.None);
        return (exit, writer.ToString());
    }
}
