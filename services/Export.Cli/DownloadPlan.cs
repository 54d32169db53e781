namespace Microservices.Export.Cli;

/// <summary>
/// Where a download of a <paramref name="ArchiveSize"/>-byte archive starts. Bytes go to a partial
/// file named after the export (so a partial file of another export is never continued) and the
/// target appears only once it has every byte. What an earlier attempt left is continued:
/// our partial file, or a shorter target file (e.g. an interrupted `curl -o` of the presigned URL).
/// </summary>
internal sealed record DownloadPlan(string Target, string Partial, long ArchiveSize, long Offset, bool AlreadyComplete, bool ContinuesTarget)
{
    public static string PartialPath(string target, string exportId) => $"{target}.{exportId}.partial";

    /// <exception cref="InvalidOperationException">The target is larger than the archive: it is some other file.</exception>
    public static DownloadPlan For(string target, string exportId, long archiveSize)
    {
        target = Path.GetFullPath(target);
        var partial = PartialPath(target, exportId);
        if (File.Exists(partial))
        {
            var length = new FileInfo(partial).Length;
            // Longer than the archive is not a prefix of it: start that file over.
            return new(target, partial, archiveSize, length <= archiveSize ? length : 0, AlreadyComplete: false, ContinuesTarget: false);
        }

        if (File.Exists(target))
        {
            var length = new FileInfo(target).Length;
            if (length > archiveSize)
            {
                throw new InvalidOperationException(
                    $"{target} has {length} bytes, more than the archive's {archiveSize}: it is not a partial download of export {exportId}; remove it or choose another --output");
            }

            return new(target, partial, archiveSize, length, AlreadyComplete: length == archiveSize, ContinuesTarget: length < archiveSize);
        }

        return new(target, partial, archiveSize, 0, AlreadyComplete: false, ContinuesTarget: false);
    }

    /// <summary>The partial file, cut at <see cref="Offset"/> and positioned there for appending.</summary>
    public FileStream OpenPartial()
    {
        if (ContinuesTarget)
        {
            File.Move(Target, Partial);
        }

        var stream = new FileStream(Partial, FileMode.OpenOrCreate, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous);
        stream.SetLength(Offset);
        stream.Position = Offset;
        return stream;
    }

    /// <summary>Renames the partial file to the target once it holds the whole archive.</summary>
    /// <exception cref="InvalidOperationException">It does not: a short file stays for a later attempt.</exception>
    public void Complete()
    {
        var length = new FileInfo(Partial).Length;
        if (length > ArchiveSize)
        {
            File.Delete(Partial);
            throw new InvalidOperationException($"received {length} bytes but the archive has {ArchiveSize}; the partial file is removed, run the command again");
        }

        if (length < ArchiveSize)
        {
            throw new InvalidOperationException($"the download stopped at {length} of {ArchiveSize} bytes; run the same command again to continue from there ({Partial})");
        }

        File.Move(Partial, Target, overwrite: true);
    }
}
