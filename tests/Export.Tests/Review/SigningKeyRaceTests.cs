using Microservices.Export.Signing;
using Microservices.TestSupport;

namespace Microservices.Export.Tests.Review;

/// <summary>Replicas that share a volume start together and both make the signing key: both must start, with one key.</summary>
public sealed class SigningKeyRaceTests
{
    [Fact]
    public async Task Two_replicas_creating_the_key_at_once_both_load_the_same_key()
    {
        for (var round = 0; round < 25; round++)
        {
            using var directory = new TempDirectory();
            var path = Path.Combine(directory.Path, "keys", "export-signing.pem");
            using var start = new Barrier(2);
            var replicas = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
            {
                start.SignalAndWait();
                return ExportSigningKey.LoadOrCreate(path, createIfMissing: true);
            })).ToList();

            var keys = await Task.WhenAll(replicas);
            try
            {
                Assert.Equal(keys[0].KeyId, keys[1].KeyId);
                using var reloaded = ExportSigningKey.LoadOrCreate(path, createIfMissing: false);
                Assert.Equal(keys[0].KeyId, reloaded.KeyId);
                Assert.Equal([path], Directory.GetFiles(Path.GetDirectoryName(path)!));
            }
            finally
            {
                foreach (var key in keys)
                {
                    key.Dispose();
                }
            }
        }
    }
}
