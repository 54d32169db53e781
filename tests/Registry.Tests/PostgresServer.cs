using Microservices.TestSupport;

namespace Microservices.Registry.Tests;

/// <summary>
/// A real PostgreSQL cluster for the tests: initdb into a temp directory and postgres on a free
/// port. PostgreSQL refuses to run as root, so as root both run as the postgres user.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private const string BinDirectory = "/usr/lib/postgresql/15/bin";
    private const string Install = "apt-get update && apt-get install -y postgresql";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "registry-pg-" + Guid.NewGuid().ToString("N")[..8]);
    private ExternalProcess? _server;

    public int Port { get; } = FreePort.Next();

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=true;Maximum Pool Size=20;Timeout=30";

    public async Task InitializeAsync()
    {
        var initdb = Prerequisite.Executable(Path.Combine(BinDirectory, "initdb"), Install);
        var postgres = Prerequisite.Executable(Path.Combine(BinDirectory, "postgres"), Install);
        var dataDirectory = Path.Combine(_directory, "data");
        Directory.CreateDirectory(_directory);
        var asRoot = Environment.UserName == "root";
        if (asRoot)
        {
            await RunAsync("chown", ["postgres:postgres", _directory]);
        }

        await RunAsync(Wrap(asRoot, initdb), [.. WrapArgs(asRoot, initdb), "-D", dataDirectory, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
        _server = ExternalProcess.Start(
            Wrap(asRoot, postgres),
            [.. WrapArgs(asRoot, postgres), "-D", dataDirectory, "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-k", _directory, "-h", "127.0.0.1", "-F", "-c", "max_connections=200"]);
        await _server.WaitForPortAsync(Port, TimeSpan.FromSeconds(60));
    }

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "registry_" + Guid.NewGuid().ToString("N")[..12];
        await using var connection = new Npgsql.NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string Wrap(bool asRoot, string program) => asRoot ? "runuser" : program;

    private static string[] WrapArgs(bool asRoot, string program) => asRoot ? ["-u", "postgres", "--", program] : [];

    private static async Task RunAsync(string program, string[] arguments)
    {
        var (exitCode, output) = await ExternalProcess.RunAsync(program, arguments, TimeSpan.FromSeconds(120));
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({exitCode}):\n{output}");
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "postgres";
}
