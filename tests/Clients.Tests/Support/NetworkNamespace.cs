using System.Diagnostics;
using System.Net;
using Microservices.TestSupport;

namespace Microservices.Clients.Tests.Support;

/// <summary>
/// A network namespace of the test run's own, with only <c>lo</c> up, in which one name resolves
/// to several loopback addresses (all of 127.0.0.0/8 is local there). <c>ip netns exec</c>
/// bind-mounts /etc/netns/NAME/hosts over /etc/hosts for the program it starts, so the machine's
/// /etc/hosts and every other process stay as they are. Deleted with its /etc/netns entry on dispose.
/// </summary>
internal sealed class NetworkNamespace : IAsyncDisposable
{
    private const string Prefix = "clients-tests-";
    private const string ConfigRoot = "/etc/netns";
    private const string InstallIp = "apt-get install -y iproute2";
    private static readonly TimeSpan IpTimeout = TimeSpan.FromSeconds(30);
    private static readonly SemaphoreSlim LeftoversRemoved = new(1, 1);
    private static bool s_leftoversRemoved;
    private static int s_created;

    private readonly string _ip;

    private NetworkNamespace(string ip, string name)
    {
        _ip = ip;
        Name = name;
    }

    public string Name { get; }

    private string ConfigDirectory => Path.Combine(ConfigRoot, Name);

    public static async Task<NetworkNamespace> CreateAsync(string hostName, IReadOnlyList<IPAddress> addresses)
    {
        var ip = Prerequisite.Executable("ip", InstallIp);
        await RemoveLeftoversAsync(ip);

        // The process id in the name lets a later run tell a crashed run's namespace from a live one's.
        var network = new NetworkNamespace(ip, $"{Prefix}{Environment.ProcessId}-{Interlocked.Increment(ref s_created)}");
        try
        {
            await IpAsync(ip, "netns", "add", network.Name);
            await IpAsync(ip, "-n", network.Name, "link", "set", "lo", "up");
            CreateConfigDirectory(network.ConfigDirectory);
            await File.WriteAllLinesAsync(
                Path.Combine(network.ConfigDirectory, "hosts"),
                ["127.0.0.1 localhost", .. addresses.Select(a => $"{a} {hostName}")]);
        }
        catch (Exception failure)
        {
            try
            {
                await network.DisposeAsync();
            }
            catch (Exception cleanup)
            {
                // Both matter: why it could not be made, and that something of it may be left.
                throw new AggregateException(failure, cleanup);
            }

            throw;
        }

        return network;
    }

    /// <summary>Runs a program inside the namespace, with the namespace's hosts file as /etc/hosts.</summary>
    public Task<(int ExitCode, string Output)> RunAsync(string program, IEnumerable<string> arguments, TimeSpan timeout) =>
        ExternalProcess.RunAsync(_ip, ["netns", "exec", Name, program, .. arguments], timeout);

    public async ValueTask DisposeAsync() => await DeleteAsync(_ip, Name);

    private static async Task DeleteAsync(string ip, string name)
    {
        // "No such file": it was never made (a failed add); anything else must fail the test.
        var (exitCode, output) = await ExternalProcess.RunAsync(ip, ["netns", "delete", name], IpTimeout);
        if (exitCode != 0 && !output.Contains("No such file", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"ip netns delete {name} failed ({exitCode}): {output}");
        }

        var config = Path.Combine(ConfigRoot, name);
        if (Directory.Exists(config))
        {
            Directory.Delete(config, recursive: true);
        }

        // Leave /etc/netns as it was found: only ours used it, and another run's is never removed.
        try
        {
            Directory.Delete(ConfigRoot);
        }
        catch (IOException)
        {
            // Not empty (another namespace's config) or already gone.
        }
    }

    /// <summary>Removes what a test process that died before its dispose left behind.</summary>
    private static async Task RemoveLeftoversAsync(string ip)
    {
        await LeftoversRemoved.WaitAsync();
        try
        {
            if (s_leftoversRemoved)
            {
                return;
            }

            var (_, list) = await IpAsync(ip, "netns", "list");
            var configs = Directory.Exists(ConfigRoot)
                ? Directory.GetDirectories(ConfigRoot).Select(Path.GetFileName)
                : [];
            var names = list.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(line => line.Split(' ')[0])
                .Concat(configs)
                .OfType<string>()
                .Where(name => name.StartsWith(Prefix, StringComparison.Ordinal))
                .Distinct();
            foreach (var name in names)
            {
                if (!IsRunning(OwnerOf(name)))
                {
                    await DeleteAsync(ip, name);
                }
            }

            s_leftoversRemoved = true;
        }
        finally
        {
            LeftoversRemoved.Release();
        }
    }

    private static int OwnerOf(string name) =>
        int.TryParse(name[Prefix.Length..].Split('-')[0], out var pid) ? pid : 0;

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void CreateConfigDirectory(string path)
    {
        // Another run may remove an empty /etc/netns between our creating it and its subdirectory.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                Directory.CreateDirectory(path);
                return;
            }
            catch (DirectoryNotFoundException) when (attempt < 5)
            {
            }
        }
    }

    private static async Task<(int ExitCode, string Output)> IpAsync(string ip, params string[] arguments)
    {
        var (exitCode, output) = await ExternalProcess.RunAsync(ip, arguments, IpTimeout);
        if (exitCode != 0)
        {
            throw new InvalidOperationException(
                $"ip {string.Join(' ', arguments)} failed ({exitCode}): {output}" +
                "These tests make their own network namespace: they need root (CAP_SYS_ADMIN, CAP_NET_ADMIN) and iproute2 " +
                $"({InstallIp}).");
        }

        return (exitCode, output);
    }
}
