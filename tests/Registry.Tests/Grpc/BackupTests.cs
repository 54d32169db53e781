using System.Runtime.Versioning;
using System.Text.RegularExpressions;
using Grpc.Core;
using Microservices.Registry.Extensions;
using Microservices.Registry.V1;
using Microservices.TestSupport;
using Microsoft.Data.Sqlite;

namespace Microservices.Registry.Tests.Grpc;

/// <summary>Backup writes only into Registry:Backup:Directory, under the server's name, owner-only; a client path is refused.</summary>
public sealed partial class BackupTests : IAsyncLifetime
{
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerAll = OwnerReadWrite | UnixFileMode.UserExecute;

    private readonly TempDirectory _directory = new();
    private RegistryHost _host = null!;

    private string BackupDirectory => _directory.File("operator-backups");

    public async Task InitializeAsync() => _host = await RegistryHost.StartAsync(
        _directory.File("registry.db"), new Dictionary<string, string?> { ["Registry:Backup:Directory"] = BackupDirectory });

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _directory.Dispose();
    }

    [GeneratedRegex(@"^registry-\d{8}T\d{9}Z-[0-9a-f]{8}\.db$")]
    private static partial Regex ServerName();

    [Fact]
    [UnsupportedOSPlatform("windows")]
    public async Task A_backup_lands_in_the_configured_directory_under_a_new_owner_only_name_and_holds_the_models()
    {
        await _host.Client.RegisterAsync(Rpc.NewModel("alice", "m1"), Rpc.Timeout);
        Assert.False(Directory.Exists(BackupDirectory));

        var first = await _host.Client.BackupAsync(new BackupRequest(), Rpc.Admin);
        var second = await _host.Client.BackupAsync(new BackupRequest(), Rpc.Admin);

        Assert.Matches(ServerName(), first.FileName);
        Assert.Matches(ServerName(), second.FileName);
        Assert.NotEqual(first.FileName, second.FileName);
        Assert.Equal(OwnerAll, File.GetUnixFileMode(BackupDirectory));
        Assert.Equal([first.FileName, second.FileName], Directory.GetFiles(BackupDirectory).Select(Path.GetFileName).Order());

        var path = Path.Combine(BackupDirectory, first.FileName);
        Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(path));
        Assert.Equal(new FileInfo(path).Length, first.SizeBytes);
        await using var copy = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        await copy.OpenAsync();
        await using var query = copy.CreateCommand();
        query.CommandText = "SELECT owner || '/' || model_id FROM models";
        Assert.Equal("alice/m1", await query.ExecuteScalarAsync());
    }

    [Theory]
    [InlineData("absolute")]
    [InlineData("copy.db")]
    [InlineData("../escape.db")]
    [InlineData("operator-backups/../../escape.db")]
    public async Task A_client_chosen_path_is_invalid_argument_and_writes_nothing(string destination)
    {
        if (destination == "absolute")
        {
            destination = _directory.File("absolute.db");
        }

        var before = Directory.GetFileSystemEntries(_directory.Path).Order().ToList();

        var refused = await Rpc.FailsAsync(() => _host.Client.BackupAsync(new BackupRequest { DestinationPath = destination }, Rpc.Admin));

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Equal("destination_path: is no longer accepted: backups go to Registry:Backup:Directory under a name the server chooses", refused.Status.Detail);
        Assert.False(File.Exists(Path.GetFullPath(destination)));
        Assert.False(File.Exists(Path.GetFullPath(destination, _directory.Path)));
        Assert.False(File.Exists(Path.GetFullPath(destination, BackupDirectory)));
        Assert.Equal(before, Directory.GetFileSystemEntries(_directory.Path).Order().ToList());
    }

    [Fact]
    public void The_directory_defaults_to_backups_under_DataDirectory_or_next_to_the_database()
    {
        Assert.Equal("/data/backups", new RegistryBackupOptions().Resolve("/db/registry.db", "/data"));
        Assert.Equal("/db/backups", new RegistryBackupOptions().Resolve("/db/registry.db", null));
        Assert.Equal("/data/mine", new RegistryBackupOptions { Directory = "mine" }.Resolve("/db/registry.db", "/data"));
        Assert.Equal("/elsewhere", new RegistryBackupOptions { Directory = "/elsewhere" }.Resolve("/db/registry.db", "/data"));
    }

    [Fact]
    public async Task Without_configuration_a_backup_goes_to_backups_next_to_the_database()
    {
        using var other = new TempDirectory();
        await using var host = await RegistryHost.StartAsync(other.File("registry.db"));

        var backup = await host.Client.BackupAsync(new BackupRequest(), Rpc.Admin);

        Assert.True(File.Exists(Path.Combine(other.Path, "backups", backup.FileName)));
    }
}
