using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using Grpc.Core;
using Grpc.Net.Client;
using Microservices.Blob.Digests;
using Microservices.Blob.Traces;
using Microservices.Blob.V1;
using Microservices.Clients;
using Spectre.Console;

namespace Microservices.Blob.Cli;

/// <summary>blobctl: offload/hydrate trace files, put/get/stat blobs.</summary>
internal static class BlobCommands
{
    /// <summary>Transfers at least this large get a progress bar (on a terminal).</summary>
    private const long ProgressThreshold = 8 * 1024 * 1024;

    private static readonly Option<string> Address = new("--address")
    {
        Description = "blob service gRPC address (env BLOB_ADDRESS)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("BLOB_ADDRESS") ?? "http://127.0.0.1:50051",
        Recursive = true,
    };

    private static readonly Option<FileInfo?> TokenFile = new("--token-file")
    {
        Description = $"file holding the bearer token (else env {BearerToken.Variable}, else the file env {BearerToken.FileVariable} names); the owner is the token's subject",
        Recursive = true,
    };

    public static RootCommand Build()
    {
        var root = new RootCommand("blobctl: content-addressed blob store and trace offload") { Address, TokenFile };
        root.Subcommands.Add(Offload());
        root.Subcommands.Add(Hydrate());
        root.Subcommands.Add(Put());
        root.Subcommands.Add(Get());
        root.Subcommands.Add(Stat());
        return root;
    }

    private static Command Offload()
    {
        var input = new Argument<FileInfo>("trace") { Description = "trace file (markdown, JSON, any text)" };
        var output = new Option<FileInfo?>("--output", "-o") { Description = "slim trace to write (default: <trace>.slim<ext>)" };
        var traceId = new Option<string?>("--trace-id") { Description = "id the references are recorded under (default: the file name)" };
        var sensitive = new Option<bool>("--sensitive") { Description = "store the images encrypted at rest" };
        var gateway = new Option<string?>("--gateway") { Description = "gateway base URL written into references (default: the service's Blob:Gateway:PublicUrl)" };
        var strict = new Option<bool>("--strict") { Description = "fail on a data: URI that is not canonical base64 instead of leaving it inline" };
        var command = new Command("offload", "the service replaces every base64 data: URI by a gateway link it signs, storing what the owner lacks") { input, output, traceId, sensitive, gateway, strict };
        command.SetAction((parse, token) => Run(async () =>
        {
            var file = parse.GetValue(input)!;
            var target = parse.GetValue(output) ?? new FileInfo(Path.ChangeExtension(file.FullName, ".slim" + file.Extension));
            using var channel = GrpcChannels.Create(parse.GetValue(Address)!);
            var client = Calls(channel, parse);
            var header = new TraceChunk.Types.Header
            {
                TraceId = parse.GetValue(traceId) ?? file.Name,
                Sensitive = parse.GetValue(sensitive),
                Strict = parse.GetValue(strict),
                GatewayUrl = parse.GetValue(gateway) ?? "",
            };
            TraceChunk.Types.Summary summary;
            await using (var source = file.OpenRead())
            await using (var slim = new FileStream(target.FullName + ".partial", FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                summary = await WithProgressAsync("offload", file.Length, source, progressed => client.OffloadTraceAsync(progressed, slim, header, token)).ConfigureAwait(false);
            }

            File.Move(target.FullName + ".partial", target.FullName, overwrite: true);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"offloaded {summary.Offloaded} of {summary.DataUris} data URIs ({summary.LeftInline} left inline): {summary.InputBytes} -> {summary.OutputBytes} bytes, stored {summary.Stored} new blob(s) ({summary.StoredBytes} bytes at rest); wrote {target.FullName}"));
        }));
        return command;
    }

    private static Command Hydrate()
    {
        var input = new Argument<FileInfo>("trace") { Description = "slim trace with blob references" };
        var output = new Option<FileInfo?>("--output", "-o") { Description = "trace to write (default: <trace>.full<ext>)" };
        var keepMissing = new Option<bool>("--keep-missing") { Description = "leave references to unavailable blobs in place instead of failing" };
        var command = new Command("hydrate", "put the original data: URIs back, byte for byte") { input, output, keepMissing };
        command.SetAction((parse, token) => Run(async () =>
        {
            var file = parse.GetValue(input)!;
            var target = parse.GetValue(output) ?? new FileInfo(Path.ChangeExtension(file.FullName, ".full" + file.Extension));
            using var channel = GrpcChannels.Create(parse.GetValue(Address)!);
            var source = new GrpcTraceSource(Calls(channel, parse));
            HydrateSummary summary;
            await using (var slim = file.OpenRead())
            await using (var full = new FileStream(target.FullName + ".partial", FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                summary = await new TraceHydrator(source, parse.GetValue(keepMissing)).HydrateAsync(slim, full, token).ConfigureAwait(false);
            }

            File.Move(target.FullName + ".partial", target.FullName, overwrite: true);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"hydrated {summary.References} references ({summary.Missing} unavailable, left in place): {summary.InputBytes} -> {summary.OutputBytes} bytes; wrote {target.FullName}"));
        }));
        return command;
    }

    private static Command Put()
    {
        var input = new Argument<FileInfo>("file");
        var sensitive = new Option<bool>("--sensitive") { Description = "encrypt at rest" };
        var labels = new Option<string[]>("--label") { Description = "key=value (repeatable)", AllowMultipleArgumentsPerToken = false };
        var command = new Command("put", "upload a file (resumable); prints its digest") { input, sensitive, labels };
        command.SetAction((parse, token) => Run(async () =>
        {
            var file = parse.GetValue(input)!;
            var labelMap = (parse.GetValue(labels) ?? []).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "");
            using var channel = GrpcChannels.Create(parse.GetValue(Address)!);
            var client = Calls(channel, parse);
            await using var content = new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
            var digest = await WithProgressAsync("hash", file.Length, content, async progressed =>
            {
                using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var buffer = new byte[1 << 20];
                int read;
                while ((read = await progressed.ReadAsync(buffer, token).ConfigureAwait(false)) > 0)
                {
                    sha.AppendData(buffer, 0, read);
                }

                return BlobDigest.FromHashBytes(sha.GetHashAndReset(), file.Length);
            }).ConfigureAwait(false);
            content.Position = 0;
            await WithProgressAsync("upload", digest.Size, progress => client.UploadAsync(digest, content, parse.GetValue(sensitive), labelMap, progress, token)).ConfigureAwait(false);
            Console.WriteLine($"{digest.Hash} {digest.Size}");
        }));
        return command;
    }

    private static Command Get()
    {
        var hash = new Argument<string>("hash");
        var size = new Argument<long>("size");
        var output = new Option<FileInfo>("--output", "-o") { Description = "file to write", Required = true };
        var command = new Command("get", "download a blob; the bytes are checked against the digest before the file appears") { hash, size, output };
        command.SetAction((parse, token) => Run(async () =>
        {
            var digest = new BlobDigest(parse.GetValue(hash)!, parse.GetValue(size));
            var target = parse.GetValue(output)!;
            using var channel = GrpcChannels.Create(parse.GetValue(Address)!);
            var client = Calls(channel, parse);
            var partial = target.FullName + ".partial";
            BlobDigest actual;
            await using (var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
            await using (var hashing = new HashingWriteStream(file))
            {
                await WithProgressAsync("download", digest.Size, progress => client.DownloadAsync(digest, hashing, progress, token)).ConfigureAwait(false);
                actual = hashing.Complete();
            }

            if (actual != digest)
            {
                File.Delete(partial);
                throw new InvalidOperationException($"downloaded bytes are {actual}, not {digest}; nothing written");
            }

            File.Move(partial, target.FullName, overwrite: true);
            Console.WriteLine($"wrote {digest.Size} bytes to {target.FullName}");
        }));
        return command;
    }

    private static Command Stat()
    {
        var hash = new Argument<string>("hash");
        var size = new Argument<long>("size");
        var command = new Command("stat", "show a blob's metadata") { hash, size };
        command.SetAction((parse, token) => Run(async () =>
        {
            using var channel = GrpcChannels.Create(parse.GetValue(Address)!);
            var info = await Calls(channel, parse).StatAsync(new BlobDigest(parse.GetValue(hash)!, parse.GetValue(size)), token).ConfigureAwait(false);
            Console.WriteLine($"digest:      {info.Digest.Hash} {info.Digest.SizeBytes}");
            Console.WriteLine($"media_type:  {info.MediaType}");
            Console.WriteLine($"dimensions:  {info.Width}x{info.Height}");
            Console.WriteLine($"owner:       {info.Owner}");
            Console.WriteLine($"created_at:  {info.CreatedAt.ToDateTimeOffset():O}");
            Console.WriteLine($"stored:      {info.StoredSizeBytes} bytes, compression={info.Compression}, encrypted={info.Encrypted}{(info.Encrypted ? $" (key {info.KeyId})" : "")}");
            Console.WriteLine($"references:  {info.ReferenceCount}");
            foreach (var (key, value) in info.Labels)
            {
                Console.WriteLine($"label:       {key}={value}");
            }
        }));
        return command;
    }

    private static BlobCalls Calls(GrpcChannel channel, ParseResult parse) =>
        new(new BlobService.BlobServiceClient(channel), BearerToken.Headers(BearerToken.Find(parse.GetValue(TokenFile)?.FullName)));

    /// <summary>Errors a person can act on, as one line and exit code 1; no stack traces.</summary>
    private static async Task<int> Run(Func<Task> action)
    {
        try
        {
            await action().ConfigureAwait(false);
            return 0;
        }
        catch (RpcException error)
        {
            await Console.Error.WriteLineAsync($"blobctl: {error.StatusCode}: {error.Status.Detail}").ConfigureAwait(false);
            return 1;
        }
        catch (Exception error) when (error is IOException or InvalidOperationException or FormatException or UnauthorizedAccessException or InvalidTracePayloadException or MissingTraceBlobException)
        {
            await Console.Error.WriteLineAsync($"blobctl: {error.Message}").ConfigureAwait(false);
            return 1;
        }
    }

    /// <summary>A progress bar for large transfers on a terminal; plain otherwise.</summary>
    private static async Task<T> WithProgressAsync<T>(string label, long total, Stream source, Func<Stream, Task<T>> work)
    {
        if (total < ProgressThreshold || Console.IsErrorRedirected)
        {
            return await work(source).ConfigureAwait(false);
        }

        return await Progress().StartAsync(async context =>
        {
            var task = context.AddTask(label, maxValue: total);
            return await work(new ProgressStream(source, n => task.Increment(n))).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    private static async Task WithProgressAsync(string label, long total, Func<Action<long>?, Task> work)
    {
        if (total < ProgressThreshold || Console.IsErrorRedirected)
        {
            await work(null).ConfigureAwait(false);
            return;
        }

        await Progress().StartAsync(async context =>
        {
            var task = context.AddTask(label, maxValue: total);
            await work(n => task.Increment(n)).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    private static Spectre.Console.Progress Progress() =>
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) }).Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn());
}
