namespace Microservices.TestSupport;

/// <summary>
/// A real PostgreSQL cluster for the tests: initdb into a temp directory and postgres on a free
/// port. PostgreSQL refuses to run as root, so as root both run as the postgres user.
/// Abstract because xunit wants a fixture declared in the test assembly: each test project
/// derives its collection fixture from it (<c>: PostgresServer, IAsyncLifetime</c>; the methods
/// below implement that interface), so TestSupport needs no xunit and no Npgsql.
/// </summary>
public abstract class PostgresServer
{
    private const string BinDirectory = "/usr/lib/postgresql/15/bin";
    private const string Install = "apt-get update && apt-get install -y postgresql";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "test-pg-" + Guid.NewGuid().ToString("N")[..8]);
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

    /// <summary>
    /// Creates an empty database and returns its connection string. With <paramref name="icuLocale"/>
    /// its default collation is that ICU locale's (a machine with only the C locale still gets a
    /// linguistic order to test against).
    /// </summary>
    public async Task<string> CreateDatabaseAsync(string? icuLocale = null)
    {
        var name = "test_" + Guid.NewGuid().ToString("N")[..12];
        var createdb = Prerequisite.Executable(Path.Combine(BinDirectory, "createdb"), Install);
        string[] collation = icuLocale is null ? [] : ["--locale-provider=icu", "--icu-locale=" + icuLocale, "--template=template0"];
        await RunAsync(createdb, ["-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "postgres", .. collation, name]);
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
