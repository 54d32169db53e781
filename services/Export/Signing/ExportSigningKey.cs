using System.Security.Cryptography;
using Microservices.ExportFormat;

namespace Microservices.Export.Signing;

/// <summary>This installation's export key: signs every manifest; its public half is served and trusted by our own imports.</summary>
internal sealed class ExportSigningKey(ECDsa key) : IDisposable
{
    public string KeyId { get; } = SigningKeys.KeyId(key);

    public string PublicKeyPem { get; } = SigningKeys.PublicKeyPem(key);

    public ManifestSignature Sign(ReadOnlySpan<byte> manifest) => SigningKeys.Sign(key, manifest);

    /// <summary>The public half alone, for verifiers.</summary>
    public ECDsa PublicKey() => SigningKeys.ImportPublicKeyPem(PublicKeyPem);

    /// <summary>
    /// Loads the PEM (PKCS#8) key at <paramref name="path"/>, or makes one there (owner-only permissions) when allowed.
    /// Replicas sharing the volume may start together: creating the file is exclusive (O_EXCL), and the one
    /// that loses the race loads the winner's key once it is written. (File.Move without overwrite is not
    /// exclusive on Linux: .NET checks and then renames, so two replicas could each keep their own key.)
    /// </summary>
    public static ExportSigningKey LoadOrCreate(string path, bool createIfMissing)
    {
        if (File.Exists(path))
        {
            return LoadWritten(path);
        }

        if (!createIfMissing)
        {
            throw new InvalidOperationException($"Export:Signing:KeyPath {path} does not exist and Export:Signing:CreateIfMissing is false.");
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        try
        {
            using (var file = new FileStream(path, options))
            {
                file.Write(System.Text.Encoding.ASCII.GetBytes(key.ExportPkcs8PrivateKeyPem()));
                file.Flush(flushToDisk: true);
            }

            return new ExportSigningKey(key);
        }
        catch (IOException) when (File.Exists(path))
        {
            key.Dispose();
            return LoadWritten(path);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>Loads the key, waiting briefly while another replica is still writing the file it just created.</summary>
    private static ExportSigningKey LoadWritten(string path)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var pem = File.ReadAllText(path);
            if ((pem.Contains("-----END", StringComparison.Ordinal) && pem.TrimEnd().EndsWith("-----", StringComparison.Ordinal)) || DateTime.UtcNow > deadline)
            {
                return Load(path, pem);
            }

            Thread.Sleep(20);
        }
    }

    private static ExportSigningKey Load(string path, string pem)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
            return key.KeySize == 256
                ? new ExportSigningKey(key)
                : throw new InvalidOperationException($"Export:Signing:KeyPath {path} holds an ECDSA key of {key.KeySize} bits; export signatures use P-256.");
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    public void Dispose() => key.Dispose();
}
