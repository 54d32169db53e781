using System.Text;
using Amazon.Runtime;
using Grpc.Core;
using Microservices.ExportFormat;

namespace Microservices.Export.Jobs;

/// <summary>What a failed job reports: a gRPC status code name and a message that says what failed.</summary>
internal static class JobErrors
{
    public static JobError From(Exception error) => error switch
    {
        RpcException rpc => new(CodeName(rpc.StatusCode), $"{rpc.Status.Detail}"),
        // Retries are over by now: a 5xx is S3 being down, anything else S3 refusing (a lost upload, access).
        AmazonServiceException s3 => new((int)s3.StatusCode >= 500 ? "UNAVAILABLE" : "FAILED_PRECONDITION", $"S3 answered {(int)s3.StatusCode} {s3.ErrorCode}: {s3.Message}"),
        AmazonClientException s3 => new("UNAVAILABLE", $"S3 could not be reached: {s3.Message}"),
        ArchiveRejectedException archive => new("INVALID_ARGUMENT", archive.Message),
        ImportRefusedException refused => new(CodeName(refused.Code), refused.Message),
        HttpRequestException http => new("UNAVAILABLE", $"Fetching the archive failed: {http.Message}"),
        Google.Protobuf.InvalidJsonException or System.Text.Json.JsonException or FormatException => new("INVALID_ARGUMENT", $"A line of the archive is not what its entry holds: {error.Message}"),
        _ => new("INTERNAL", error.Message),
    };

    /// <summary>StatusCode.InvalidArgument → "INVALID_ARGUMENT".</summary>
    public static string CodeName(StatusCode code)
    {
        var name = code.ToString();
        var builder = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]))
            {
                builder.Append('_');
            }

            builder.Append(char.ToUpperInvariant(name[i]));
        }

        return builder.ToString();
    }
}

/// <summary>An import that cannot go on for a reason that is not the archive's bytes (e.g. a source that is too large or gone).</summary>
internal sealed class ImportRefusedException(StatusCode code, string message) : Exception(message)
{
    public StatusCode Code { get; } = code;
}
