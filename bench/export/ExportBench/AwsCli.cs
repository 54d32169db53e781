using System.Diagnostics;
using System.Globalization;

namespace Microservices.ExportBench;

/// <summary>
/// The aws command against s3rver: s3rver's fixed credentials, path-style, no config files of the
/// machine's, and checksums only where required (s3rver does not take botocore's default
/// aws-chunked uploads with trailing checksums).
/// </summary>
internal sealed class AwsCli(string aws, string endpoint, string bucket, string work)
{
    public async Task<double> CopyAsync(string file, string key)
    {
        var clock = Stopwatch.StartNew();
        await RunAsync("s3", "cp", "--only-show-errors", file, $"s3://{bucket}/{key}");
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>The object's size in bytes (head-object).</summary>
    public async Task<long> SizeAsync(string key)
    {
        var output = await RunAsync("s3api", "head-object", "--bucket", bucket, "--key", key, "--query", "ContentLength", "--output", "text");
        return long.Parse(output.Trim(), CultureInfo.InvariantCulture);
    }

    public Task RemoveAsync(string key) => RunAsync("s3", "rm", "--only-show-errors", $"s3://{bucket}/{key}");

    private async Task<string> RunAsync(params string[] args)
    {
        var info = new ProcessStartInfo(aws) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.ArgumentList.Add("--endpoint-url");
        info.ArgumentList.Add(endpoint);
        info.Environment["AWS_ACCESS_KEY_ID"] = "S3RVER";
        info.Environment["AWS_SECRET_ACCESS_KEY"] = "S3RVER";
        info.Environment["AWS_DEFAULT_REGION"] = "us-east-1";
        info.Environment["AWS_CONFIG_FILE"] = Path.Combine(work, "aws-config");
        info.Environment["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(work, "aws-credentials");
        info.Environment["AWS_REQUEST_CHECKSUM_CALCULATION"] = "when_required";
        info.Environment["AWS_RESPONSE_CHECKSUM_VALIDATION"] = "when_required";
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {aws}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"aws {string.Join(' ', args)} exited {process.ExitCode}: {await stderr}");
        }

        return await stdout;
    }
}
