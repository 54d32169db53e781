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

    // The CLI reads its bearer token from here (--token-file); alice's unless a test says otherwise.
    private string _tokenFile = "";

    public async Task InitializeAsync()
    {
        _host = await RegistryHost.StartAsync(_directory.File("registry.db"));
        _tokenFile = _directory.File("token");
        await File.WriteAllTextAsync(_tokenFile, TestTokens.For("alice") + "\n");
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
    public async Task Backup_reports_the_name_the_server_chose()
    {
        var (refused, denied) = await RunAsync("backup");
        Assert.Equal(1, refused);
        Assert.Contains("Backup needs the admin role", denied);
        Assert.False(Directory.Exists(_directory.File("backups")));

        await File.WriteAllTextAsync(_tokenFile, TestTokens.Admin());
        var (exit, output) = await RunAsync("backup");
        Assert.Equal(0, exit);
        var name = Assert.Single(Directory.GetFiles(_directory.File("backups")));
        Assert.Contains($"Backed up to {Path.GetFileName(name)} in the server's backup directory ({new FileInfo(name).Length} bytes)", output);
    }

    [Fact]
    public async Task Backup_takes_no_path_argument()
    {
        var (exit, _) = await RunAsync("backup", _directory.File("backup.db"));
        Assert.NotEqual(0, exit);
        Assert.False(File.Exists(_directory.File("backup.db")));
    }

    [Fact]
    public async Task Without_a_token_the_call_is_refused_with_what_to_send_and_another_owner_is_refused()
    {
        var (exit, output) = await RunAsync("", ["list", "--address", _host.Address, "--token-file", _directory.File("none")], withHost: false);
        Assert.Equal(1, exit);
        Assert.Contains("no token file", output);

        await File.WriteAllTextAsync(_tokenFile, "");
        (exit, output) = await RunAsync("list");
        Assert.Equal(1, exit);
        Assert.Contains("no bearer token", output);

        await File.WriteAllTextAsync(_tokenFile, TestTokens.For("alice"));
        (exit, output) = await RunAsync("", ["list", "--address", _host.Address, "--owner", "bob", "--token-file", _tokenFile], withHost: false);
        Assert.Equal(1, exit);
        Assert.Contains("PermissionDenied", output);
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
        string[] common = withHost ? ["--address", _host.Address, "--owner", "alice", "--token-file", _tokenFile] : [];
        var exit = await RegistryCli.RunAsync([.. args, .. common], console, new StringReader(input), CancellationToken.None);
        return (exit, writer.ToString());
    }
}
