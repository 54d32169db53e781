using Microservices.Export.Cli;
using Microservices.TestSupport;

namespace Microservices.Export.Tests.Cli;

/// <summary>What the command line accepts and refuses before any call is made.</summary>
public sealed class ArgumentTests
{
    private static readonly System.CommandLine.RootCommand Root = ExportCli.Build(CliRun.Recording(TextWriter.Null), CliRun.Recording(TextWriter.Null));

    [Fact]
    public void Url_expires_is_read_as_a_duration()
    {
        var parsed = Root.Parse(["url", "exp1", "--expires", "2h"]);
        Assert.Empty(parsed.Errors);
        Assert.Equal(TimeSpan.FromHours(2), parsed.GetValue<TimeSpan?>("--expires"));
        Assert.Null(Root.Parse(["url", "exp1"]).GetValue<TimeSpan?>("--expires"));
    }

    [Fact]
    public async Task A_bad_duration_is_a_parse_error_naming_the_option()
    {
        var (exit, _, error) = await CliRun.RunAsync("url", "exp1", "--expires", "15x");
        Assert.Equal(1, exit);
        Assert.Contains("--expires: '15x' has unit 'x'", error);
    }

    [Theory]
    [InlineData("show")]
    [InlineData("watch")]
    [InlineData("cancel")]
    [InlineData("download")]
    [InlineData("url")]
    [InlineData("verify")]
    public void Commands_about_one_thing_require_it(string command) => Assert.NotEmpty(Root.Parse([command]).Errors);

    [Theory]
    [InlineData("0")]
    [InlineData("-3")]
    public void A_timeout_must_be_positive(string seconds)
    {
        var parsed = Root.Parse(["list", "--timeout", seconds]);
        Assert.Contains(parsed.Errors, e => e.Message == "--timeout must be a positive number of seconds");
        Assert.Empty(Root.Parse(["list", "--timeout", "5"]).Errors);
    }

    [Fact]
    public void Start_takes_content_flags_and_watch()
    {
        Assert.Empty(Root.Parse(["start", "--models", "--references", "-w"]).Errors);
        Assert.NotEmpty(Root.Parse(["start", "--everything"]).Errors);
    }

    [Fact]
    public void Verify_takes_several_keys()
    {
        var parsed = Root.Parse(["verify", "a.tar.gz", "--key", "a.pem", "--key", "b.pem", "--require-signature"]);
        Assert.Empty(parsed.Errors);
        Assert.Equal(["a.pem", "b.pem"], parsed.GetValue<FileInfo[]>("--key")!.Select(f => f.Name));
    }

    [Fact]
    public void An_import_needs_exactly_one_source()
    {
        using var directory = new TempDirectory();
        var file = directory.File("a.tar.gz");
        File.WriteAllBytes(file, [1]);

        Assert.Equal(new ImportSource(ImportSourceKind.File, file), ImportSource.From(file, null, null, out _));
        Assert.Equal("e1", ImportSource.From(null, "e1", null, out _)!.Request().ExportId);
        Assert.Equal("https://b/x.tar.gz", ImportSource.From(null, "", "https://b/x.tar.gz", out _)!.Request().ArchiveUrl);

        Assert.Null(ImportSource.From(null, null, null, out var none));
        Assert.Contains("give what to import", none);
        Assert.Null(ImportSource.From(file, "e1", null, out var two));
        Assert.Contains("not a file and --export-id", two);
        Assert.Null(ImportSource.From(null, null, "ftp://b/x.tar.gz", out var scheme));
        Assert.Contains("not an http:// or https:// URL", scheme);
        Assert.Null(ImportSource.From(directory.File("missing.tar.gz"), null, null, out var missing));
        Assert.Contains("does not exist", missing);
    }

    [Fact]
    public async Task A_refused_import_source_exits_1_before_connecting()
    {
        var (exit, output, error) = await CliRun.RunAsync("import", "--export-id", "e1", "--url", "https://b/x", "--address", "http://127.0.0.1:1");
        Assert.Equal(1, exit);
        Assert.Empty(output);
        Assert.Contains("error: give one of an archive file, --export-id or --url", error);
    }

    [Fact]
    public async Task An_unreachable_service_prints_the_status_without_a_stack_trace()
    {
        var (exit, output, error) = await CliRun.RunAsync("show", "exp1", "--address", $"http://127.0.0.1:{FreePort.Next()}", "--timeout", "5");
        Assert.Equal(1, exit);
        Assert.Empty(output);
        Assert.StartsWith("error: Unavailable: ", error);
        Assert.DoesNotContain("   at ", error);
    }
}
