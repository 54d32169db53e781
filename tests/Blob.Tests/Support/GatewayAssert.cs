using System.Net;

namespace Microservices.Blob.Tests.Support;

internal static class GatewayAssert
{
    /// <summary>
    /// The answer for a blob the caller may not see (<paramref name="hidden"/>) is the answer for
    /// one nobody has (<paramref name="missing"/>): 404, the same body, the same X-Blob-Missing but
    /// for the hash, so nothing tells one owner whether another holds a blob.
    /// </summary>
    public static async Task AnswersAsMissingAsync(HttpResponseMessage hidden, string hiddenHash, HttpResponseMessage missing, string absentHash)
    {
        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        Assert.Equal(missing.StatusCode, hidden.StatusCode);
        Assert.Equal(await missing.Content.ReadAsByteArrayAsync(), await hidden.Content.ReadAsByteArrayAsync());
        Assert.Equal(
            missing.Headers.GetValues("X-Blob-Missing").Single().Replace(absentHash, "<hash>", StringComparison.Ordinal),
            hidden.Headers.GetValues("X-Blob-Missing").Single().Replace(hiddenHash, "<hash>", StringComparison.Ordinal));
    }
}
