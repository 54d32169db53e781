using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using Microservices.ExportFormat;
using Spectre.Console;

namespace Microservices.Export.Cli;

/// <summary>
/// `export verify ARCHIVE [--key PEM ...] [--require-signature]`: offline, no server. Reads the
/// archive with the format library's verifier (every entry against the manifest's sha256, the
/// manifest's signature against the given keys) and prints what it holds; exit 1 with the reason
/// when it is rejected.
/// </summary>
internal static class VerifyCommand
{
    public static Command Create(CliContext cli)
    {
        var archive = new Argument<FileInfo>("archive") { Description = "An export archive (.tar.gz)" };
        var keys = new Option<FileInfo[]>("--key") { Description = "A trusted public key, PEM (from `export key`); repeatable" };
        var requireSignature = new Option<bool>("--require-signature") { Description = "Reject the archive unless one of the keys signed it" };
        var command = new Command("verify", "Check an archive offline: entries, manifest, signature");
        command.Arguments.Add(archive);
        command.Options.Add(keys);
        command.Options.Add(requireSignature);
        command.SetAction((parse, ct) => ExportCli.GuardAsync(cli.Error, async () =>
        {
            var trusted = new List<ECDsa>();
            try
            {
                foreach (var file in parse.GetValue(keys) ?? [])
                {
                    trusted.Add(await ReadKeyAsync(file, ct));
                }

                var path = parse.GetValue(archive)!;
                await using var stream = new FileStream(path.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
                VerifiedArchive verified;
                try
                {
                    verified = await ArchiveVerifier.VerifyAsync(stream, trusted, parse.GetValue(requireSignature), new ArchiveLimits(), ct);
                }
                catch (ArchiveRejectedException e)
                {
                    cli.Error.MarkupLineInterpolated($"[red]rejected[/] ({e.Reason}): {e.Message}");
                    return ExitCodes.Failed;
                }

                Print(cli.Output, verified, trusted.Count);
                return ExitCodes.Ok;
            }
            finally
            {
                foreach (var key in trusted)
                {
                    key.Dispose();
                }
            }
        }, ct));
        return command;
    }

    private static async Task<ECDsa> ReadKeyAsync(FileInfo file, CancellationToken cancellationToken)
    {
        var pem = await File.ReadAllTextAsync(file.FullName, cancellationToken);
        try
        {
            return SigningKeys.ImportPublicKeyPem(pem);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new InvalidOperationException($"--key {file.FullName}: not an ECDSA P-256 public key in PEM ({e.Message})", e);
        }
    }

    private static void Print(IAnsiConsole console, VerifiedArchive verified, int keysGiven)
    {
        var manifest = verified.Manifest;
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        void Row(string name, string value) => grid.AddRow(new Text(name), new Text(value));
        Row("archive", "valid: every entry matches the manifest");
        Row("export", manifest.ExportId);
        Row("owner", manifest.Owner);
        Row("installation", manifest.Installation);
        Row("created", manifest.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        Row("counts", string.Create(CultureInfo.InvariantCulture,
            $"{manifest.Counts.Models} models, {manifest.Counts.Blobs} blobs ({Formatting.Bytes(manifest.Counts.BlobBytes)}), {manifest.Counts.References} references"));
        Row("entries", manifest.Entries.Count.ToString(CultureInfo.InvariantCulture));
        if (manifest.MissingBlobs.Count > 0)
        {
            Row("missing blobs", string.Create(CultureInfo.InvariantCulture, $"{manifest.MissingBlobs.Count} (deleted while the export ran)"));
        }

        Row("size", string.Create(CultureInfo.InvariantCulture, $"{Formatting.Bytes(verified.CompressedBytes)} ({verified.CompressedBytes} bytes)"));
        Row("signature", Signature(verified, keysGiven));
        console.Write(grid);
    }

    private static string Signature(VerifiedArchive verified, int keysGiven)
    {
        if (verified.SignatureVerified)
        {
            return $"verified, key {verified.SigningKeyId}";
        }

        var key = string.IsNullOrEmpty(verified.SigningKeyId) ? "the manifest names no key" : $"signed with key {verified.SigningKeyId}";
        return keysGiven == 0
            ? $"not verified (no --key given); {key}"
            : $"NOT verified: {key}, none of the {keysGiven} --key key(s)";
    }
}
