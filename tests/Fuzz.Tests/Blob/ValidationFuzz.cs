using FsCheck;
using FsCheck.Fluent;
using Microservices.Blob.Digests;
using Microservices.Blob.Domain;
using Microservices.Hosting.Security;

namespace Microservices.Fuzz.Tests.Blob;

/// <summary>Every rule of Validation takes any string: it returns the value unchanged or throws BlobException, and what it accepts keeps the rule.</summary>
public sealed class ValidationFuzz
{
    private static readonly Gen<char> Char = Gen.Frequency(
        (6, Gen.Elements("0123456789abcdef".ToCharArray())),
        (3, Gen.Elements("ABCDEFxyz._-@/ %".ToCharArray())),
        (1, Gen.Elements('\0', '\n', '\u0085', '\u200B', '\uD800', '\uDC00', 'é', '\uFFFF')),
        (1, Gen.Choose(0, 0xFFFF).Select(c => (char)c)));

    private static readonly Gen<string?> Text = Gen.Frequency(
        (1, Gen.Constant<string?>(null)),
        (8, Gen.Choose(0, 70).SelectMany(n => Gen.ArrayOf(Char, n)).Select(c => (string?)new string(c))),
        (2, Gen.Elements(32, 63, 64, 65, 128, 129, 256, 257).SelectMany(n => Gen.ArrayOf(Char, n)).Select(c => (string?)new string(c))),
        (2, Gen.Elements(32, 64).SelectMany(n => Gen.ArrayOf(Gen.Elements("0123456789abcdef".ToCharArray()), n)).Select(c => (string?)new string(c))));

    private static void Accepts<T>(Func<T> rule, Action<T> accepted)
    {
        T value;
        try
        {
            value = rule();
        }
        catch (BlobException)
        {
            return;
        }

        accepted(value);
    }

    [Fact]
    public void Owner_id_and_upload_id_validate_or_throw_the_domain_error()
    {
        Fuzzing.Check(Text, 2000, text =>
        {
            Accepts(() => Validation.Owner(text), owner =>
            {
                Assert.Same(text, owner);
                Assert.InRange(owner.Length, 1, OwnerNames.MaxLength);
                Assert.DoesNotContain(owner, c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '@'));
                Assert.NotEqual('.', owner[0]);
            });
            Accepts(() => Validation.Id(text, "trace_id"), id =>
            {
                Assert.Same(text, id);
                Assert.InRange(id.Length, 1, Validation.MaxIdLength);
                Assert.DoesNotContain(id, char.IsControl);
            });
            Accepts(() => Validation.UploadId(text), id => Assert.Matches("^[0-9a-f]{32}$", id));
        });
    }

    [Fact]
    public void Digests_validate_or_throw_the_domain_error()
    {
        var cases = from hash in Text from size in Gen.Elements(long.MinValue, -1L, 0L, 1L, long.MaxValue) select (hash, size);
        Fuzzing.Check(cases, 2000, c =>
        {
            Accepts(() => Validation.Digest(c.hash, c.size), digest =>
            {
                Assert.Matches("^[0-9a-f]{64}$", digest.Hash);
                Assert.Equal(c.size, digest.Size);
                Assert.True(digest.Size >= 0);
            });
            Assert.Equal(BlobDigest.IsValidHash(c.hash), c.hash is { Length: 64 } && c.hash.All(ch => ch is >= '0' and <= '9' or >= 'a' and <= 'f'));
        });
    }

    [Fact]
    public void Labels_validate_or_throw_the_domain_error()
    {
        var labels = Gen.Choose(0, 40).SelectMany(n => Gen.ArrayOf(Gen.Zip(Text, Text), n))
            .Select(pairs => (IReadOnlyDictionary<string, string>)pairs.Where(p => p.Item1 is not null).DistinctBy(p => p.Item1)
                .ToDictionary(p => p.Item1!, p => p.Item2 ?? "", StringComparer.Ordinal));
        Fuzzing.Check(labels, 500, l => Accepts(() => Validation.Labels(l), accepted =>
        {
            Assert.InRange(accepted.Count, 0, 32);
            Assert.All(accepted, p =>
            {
                Assert.InRange(p.Key.Length, 1, 64);
                Assert.InRange(p.Value.Length, 0, 256);
                Assert.DoesNotContain(p.Key + p.Value, char.IsControl);
            });
        }));
    }
}
