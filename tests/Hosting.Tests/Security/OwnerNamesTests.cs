using Microservices.Hosting.Security;

namespace Microservices.Hosting.Tests.Security;

public sealed class OwnerNamesTests
{
    [Theory]
    [InlineData("alice")]
    [InlineData("e2e-a-24771")]
    [InlineData("alice@example.org")]
    [InlineData("a.b_c-d")]
    [InlineData("_")]
    public void A_name_of_the_allowed_characters_is_valid(string owner) => Assert.True(OwnerNames.IsValid(owner));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(".hidden")]
    [InlineData("..")]
    [InlineData("a/b")]
    [InlineData("a\\b")]
    [InlineData("alice\n")] // a regex ending in $ once let this through: $ also matches before a final newline
    [InlineData("al ice")]
    [InlineData("ålice")]
    public void Anything_else_is_not(string? owner) => Assert.False(OwnerNames.IsValid(owner));

    [Fact]
    public void The_length_is_at_most_128() =>
        Assert.Equal((true, false), (OwnerNames.IsValid(new string('a', 128)), OwnerNames.IsValid(new string('a', 129))));
}
