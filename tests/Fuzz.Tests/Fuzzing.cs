using System.Globalization;
using FsCheck;
using FsCheck.Fluent;

namespace Microservices.Fuzz.Tests;

/// <summary>
/// How many cases a property runs: its base count (sized for a busy 2-core machine) times
/// FUZZ_SCALE (default 1), so a long run is <c>FUZZ_SCALE=100 dotnet test tests/Fuzz.Tests</c>.
/// </summary>
internal static class Fuzzing
{
    public static int Scale { get; } =
        int.TryParse(Environment.GetEnvironmentVariable("FUZZ_SCALE"), NumberStyles.None, CultureInfo.InvariantCulture, out var scale) && scale > 0 ? scale : 1;

    public static void Check<T>(Gen<T> gen, int cases, Action<T> property)
    {
        var config = Config.QuickThrowOnFailure.WithMaxTest(cases * Scale).WithQuietOnSuccess(true);
        Prop.ForAll(Arb.From(gen), property).Check(config);
    }

    public static void CheckAsync<T>(Gen<T> gen, int cases, Func<T, Task> property) =>
        Check(gen, cases, value => property(value).GetAwaiter().GetResult());

    /// <summary>Any bytes, weighted towards the ones parsers look at (ASCII, separators, high bytes).</summary>
    public static Gen<byte[]> Bytes(int maxLength) =>
        Gen.Choose(0, maxLength).SelectMany(length => Gen.ArrayOf(AnyByte, length));

    public static Gen<byte> AnyByte { get; } = Gen.Frequency(
        (4, Gen.Choose(0x20, 0x7E).Select(b => (byte)b)),
        (1, Gen.Elements((byte)'\n', (byte)'\r', (byte)'\t', (byte)' ', (byte)0)),
        (1, Gen.Choose(0, 255).Select(b => (byte)b)));

    /// <summary>Read sizes for a <see cref="ChunkedStream"/>: mostly tiny, sometimes big.</summary>
    public static Gen<int[]> ReadSizes { get; } = Gen.NonEmptyListOf(Gen.Frequency(
        (4, Gen.Choose(1, 8)), (2, Gen.Choose(9, 600)), (1, Gen.Choose(601, 70_000)))).Select(sizes => sizes.ToArray());
}
