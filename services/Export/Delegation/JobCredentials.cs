using System.Collections.Concurrent;
using Grpc.Core;
using Microservices.Export.Jobs;
using Microservices.Hosting.Security;

namespace Microservices.Export.Delegation;

/// <summary>
/// The bearer tokens a job's calls into registry and blob carry: minted for the job's owner and
/// this job only, scoped to what the job's kind needs (an export only reads), short-lived and
/// minted again before they run out. One token per job is kept while it is valid.
/// </summary>
internal sealed class JobCredentials(DelegatedTokenMinter minter, DelegationOptions options, TimeProvider time)
{
    /// <summary>The act.sub registry and blob accept (their Auth:Delegation:Actor).</summary>
    public const string Actor = "export";

    private static readonly string[] ExportScopes = ["registry.read", "blob.read"];
    private static readonly string[] ImportScopes = ["registry.read", "registry.write", "blob.read", "blob.write"];

    private readonly ConcurrentDictionary<string, Minted> _tokens = new(StringComparer.Ordinal);

    public static IReadOnlyList<string> ScopesOf(JobKind kind) => kind == JobKind.Export ? ExportScopes : ImportScopes;

    /// <summary>The call metadata for one call (or one attempt of it) made for <paramref name="job"/>.</summary>
    public Metadata Headers(JobIdentity job) => [new Metadata.Entry("authorization", "Bearer " + Token(job))];

    public string Token(JobIdentity job)
    {
        var now = time.GetUtcNow();
        if (_tokens.TryGetValue(job.JobId, out var kept) && kept.Owner == job.Owner && kept.ExpiresAt - now > options.RenewBefore)
        {
            return kept.Token;
        }

        ForgetExpired(now);
        var minted = new Minted(job.Owner, minter.Mint(job.Owner, job.JobId, ScopesOf(job.Kind), options.Lifetime, now), now + options.Lifetime);
        _tokens[job.JobId] = minted;
        return minted.Token;
    }

    /// <summary>Tokens of jobs that ended stay until they expire; this keeps the cache to the jobs of one lifetime.</summary>
    private void ForgetExpired(DateTimeOffset now)
    {
        foreach (var (id, minted) in _tokens)
        {
            if (minted.ExpiresAt <= now)
            {
                _tokens.TryRemove(new KeyValuePair<string, Minted>(id, minted));
            }
        }
    }

    private sealed record Minted(string Owner, string Token, DateTimeOffset ExpiresAt);
}
