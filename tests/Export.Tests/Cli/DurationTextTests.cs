using Microservices.Export.Cli;

namespace Microservices.Export.Tests.Cli;

public sealed class DurationTextTests
{
    [Theory]
    [InlineData("90s", 90)]
    [InlineData("15m", 15 * 60)]
    [InlineData("2h", 2 * 3600)]
    [InlineData("7d", 7 * 86400)]
    [InlineData("1h30m", 5400)]
    [InlineData("30m1h", 5400)]
    [InlineData("1d2h3m4s", 86400 + 7200 + 180 + 4)]
    public void Reads_numbers_with_units(string text, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), DurationText.Parse(text, out var error));
        Assert.Null(error);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("15", "a number and a unit")]
    [InlineData("m", "a number and a unit")]
    [InlineData("15x", "unit 'x'")]
    [InlineData("15M", "unit 'M'")]
    [InlineData("1h2h", "unit 'h' twice")]
    [InlineData("0m", "not positive")]
    [InlineData("-5m", "a number and a unit")]
    [InlineData("1.5h", "a number and a unit")]
    [InlineData("15 m", "a number and a unit")]
    [InlineData("9999999d", "too long")]
    public void Refuses_what_is_not_a_positive_duration_and_says_why(string text, string reason)
    {
        Assert.Null(DurationText.Parse(text, out var error));
        Assert.Contains(reason, error);
    }
}
