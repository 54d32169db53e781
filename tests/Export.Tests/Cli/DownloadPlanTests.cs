using Microservices.Export.Cli;
using Microservices.TestSupport;

namespace Microservices.Export.Tests.Cli;

/// <summary>The resume logic of `export download` against real files.</summary>
public sealed class DownloadPlanTests : IDisposable
{
    private const string ExportId = "exp1";
    private static readonly byte[] Archive = [.. Enumerable.Range(0, 1000).Select(i => (byte)(i * 7))];
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private string Target => _directory.File("out.tar.gz");

    private string Partial => DownloadPlan.PartialPath(Target, ExportId);

    [Fact]
    public void Nothing_there_starts_at_zero_and_the_target_appears_only_when_complete()
    {
        var plan = DownloadPlan.For(Target, ExportId, Archive.Length);
        Assert.Equal(0, plan.Offset);
        Assert.False(plan.AlreadyComplete);

        using (var file = plan.OpenPartial())
        {
            file.Write(Archive);
        }

        Assert.False(File.Exists(Target));
        plan.Complete();
        Assert.Equal(Archive, File.ReadAllBytes(Target));
        Assert.False(File.Exists(Partial));
    }

    [Fact]
    public void An_interrupted_download_continues_from_the_partial_files_length()
    {
        var first = DownloadPlan.For(Target, ExportId, Archive.Length);
        using (var file = first.OpenPartial())
        {
            file.Write(Archive, 0, 300);
        }

        var interrupted = Assert.Throws<InvalidOperationException>(first.Complete);
        Assert.Contains("300 of 1000", interrupted.Message);
        Assert.False(File.Exists(Target));

        var second = DownloadPlan.For(Target, ExportId, Archive.Length);
        Assert.Equal(300, second.Offset);
        using (var file = second.OpenPartial())
        {
            Assert.Equal(300, file.Position);
            file.Write(Archive, (int)second.Offset, Archive.Length - (int)second.Offset);
        }

        second.Complete();
        Assert.Equal(Archive, File.ReadAllBytes(Target));
    }

    [Fact]
    public void A_shorter_target_file_is_continued_from_its_length()
    {
        File.WriteAllBytes(Target, Archive[..400]);
        var plan = DownloadPlan.For(Target, ExportId, Archive.Length);
        Assert.Equal(400, plan.Offset);
        Assert.True(plan.ContinuesTarget);

        using (var file = plan.OpenPartial())
        {
            Assert.False(File.Exists(Target));
            file.Write(Archive, 400, Archive.Length - 400);
        }

        plan.Complete();
        Assert.Equal(Archive, File.ReadAllBytes(Target));
    }

    [Fact]
    public void A_complete_target_is_not_downloaded_again()
    {
        File.WriteAllBytes(Target, Archive);
        Assert.True(DownloadPlan.For(Target, ExportId, Archive.Length).AlreadyComplete);
    }

    [Fact]
    public void A_larger_target_is_some_other_file_and_is_left_alone()
    {
        File.WriteAllBytes(Target, new byte[Archive.Length + 1]);
        var error = Assert.Throws<InvalidOperationException>(() => DownloadPlan.For(Target, ExportId, Archive.Length));
        Assert.Contains("1001 bytes, more than the archive's 1000", error.Message);
        Assert.Equal(Archive.Length + 1, new FileInfo(Target).Length);
    }

    [Fact]
    public void A_partial_file_longer_than_the_archive_is_started_over()
    {
        File.WriteAllBytes(Partial, new byte[Archive.Length + 50]);
        var plan = DownloadPlan.For(Target, ExportId, Archive.Length);
        Assert.Equal(0, plan.Offset);
        using (var file = plan.OpenPartial())
        {
            Assert.Equal(0, file.Length);
        }
    }

    [Fact]
    public void Another_exports_partial_file_is_not_continued()
    {
        File.WriteAllBytes(DownloadPlan.PartialPath(Target, "other"), Archive[..500]);
        Assert.Equal(0, DownloadPlan.For(Target, ExportId, Archive.Length).Offset);
    }
}
