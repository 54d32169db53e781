using System.Globalization;
using Microservices.TestSupport;

namespace Microservices.Caching.Tests;

/// <summary>
/// A real redis-server that speaks only TLS (no plaintext port), with the test's PKI, client
/// certificates required (redis' default, tls-auth-clients yes) and one ACL user; the default user is off.
/// </summary>
internal sealed class RedisTlsServer : IAsyncDisposable
{
    public const string User = "cacheuser";
    public const string Password = "tls-acl-secret-4711";

    private readonly ExternalProcess _process;

    private RedisTlsServer(ExternalProcess process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public string Endpoint => $"127.0.0.1:{Port}";

    public static async Task<RedisTlsServer> StartAsync(TestCertificates pki)
    {
        var executable = Prerequisite.Executable("redis-server", "apt-get install -y redis-server");
        var port = FreePort.Next();
        var process = ExternalProcess.Start(executable,
        [
            "--port", "0", "--tls-port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--tls-cert-file", pki.ServerCertificatePath, "--tls-key-file", pki.ServerKeyPath, "--tls-ca-cert-file", pki.CaPath,
            "--save", "", "--appendonly", "no",
            "--user", User, "on", ">" + Password, "~*", "&*", "+@all", "--user", "default", "off",
        ]);
        await process.WaitForPortAsync(port, TimeSpan.FromSeconds(10));
        return new RedisTlsServer(process, port);
    }

    public async ValueTask DisposeAsync() => await _process.DisposeAsync();
}
