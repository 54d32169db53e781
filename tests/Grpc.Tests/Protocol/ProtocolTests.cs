using Microservices.Grpc.Protocol;

namespace Microservices.Grpc.Tests.Protocol;

public sealed class ProtocolTests
{
    [Theory]
    [InlineData("1H", 36_000_000_000L)]
    [InlineData("2M", 1_200_000_000L)]
    [InlineData("3S", 30_000_000L)]
    [InlineData("250m", 2_500_000L)]
    [InlineData("7u", 70L)]
    [InlineData("500n", 5L)]
    [InlineData("99999999S", 999_999_990_000_000L)]
    public void Grpc_timeout_parses_every_unit(string value, long expectedTicks)
    {
        Assert.True(GrpcTimeout.TryParse(value, out var timeout));
        Assert.Equal(expectedTicks, timeout.Ticks);
    }

    [Theory]
    [InlineData("")]
    [InlineData("S")]
    [InlineData("10")]
    [InlineData("1.5S")]
    [InlineData("-1S")]
    [InlineData("123456789S")]
    [InlineData("10s")]
    [InlineData("10 S")]
    public void Grpc_timeout_rejects_malformed_values(string value) => Assert.False(GrpcTimeout.TryParse(value, out _));

    [Theory]
    [InlineData(5L)]
    [InlineData(10_000L)]
    [InlineData(123_456_789L)]
    [InlineData(36_000_000_000L)]
    [InlineData(3_600_000_000_000_000L)]
    public void Grpc_timeout_formats_within_eight_digits_and_never_shortens(long ticks)
    {
        var formatted = GrpcTimeout.Format(TimeSpan.FromTicks(ticks));
        Assert.InRange(formatted.Length, 2, 9);
        Assert.True(GrpcTimeout.TryParse(formatted, out var parsed));
        Assert.True(parsed.Ticks >= ticks, $"{formatted} is shorter than {ticks} ticks");
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("100%", "100%25")]
    [InlineData("a\nb", "a%0Ab")]
    [InlineData("☺", "%E2%98%BA")]
    [InlineData("😈", "%F0%9F%98%88")]
    public void Status_message_is_percent_encoded_and_decodes_back(string message, string wire)
    {
        Assert.Equal(wire, StatusMessageEncoding.Encode(message));
        Assert.Equal(message, StatusMessageEncoding.Decode(wire));
    }

    [Theory]
    [InlineData("50%")]
    [InlineData("%zz")]
    [InlineData("%E2%98")]
    public void Malformed_percent_escapes_are_kept_as_they_are(string wire) =>
        Assert.NotNull(StatusMessageEncoding.Decode(wire));

    [Theory]
    [InlineData("q6ur", new byte[] { 0xab, 0xab, 0xab })]
    [InlineData("q6s=", new byte[] { 0xab, 0xab })]
    [InlineData("q6s", new byte[] { 0xab, 0xab })]
    [InlineData("qw==", new byte[] { 0xab })]
    [InlineData("qw", new byte[] { 0xab })]
    public void Binary_metadata_decodes_with_or_without_padding(string value, byte[] expected) =>
        Assert.Equal(expected, MetadataCodec.DecodeBinary(value));

    [Fact]
    public void Binary_metadata_with_an_impossible_length_is_rejected() =>
        Assert.Throws<FormatException>(() => MetadataCodec.DecodeBinary("q6urq"));

    [Theory]
    [InlineData("application/grpc", true)]
    [InlineData("application/grpc+proto", true)]
    [InlineData("application/grpc; charset=utf-8", true)]
    [InlineData("application/grpc-web", false)]
    [InlineData("application/json", false)]
    [InlineData(null, false)]
    public void Grpc_content_types_are_recognised(string? contentType, bool expected) =>
        Assert.Equal(expected, GrpcHeaders.IsGrpcContentType(contentType));

    [Fact]
    public void Metadata_keys_are_validated_and_binary_keys_take_bytes()
    {
        Assert.Throws<ArgumentException>(() => new Metadata().Add("bad key", "x"));
        Assert.Throws<ArgumentException>(() => new Metadata().Add("x-bin", "text"));
        Assert.Throws<ArgumentException>(() => new Metadata().Add("x", [1, 2]));
        Assert.Throws<ArgumentException>(() => new Metadata().Add("x", "line\nbreak"));
        Assert.Equal("v", new Metadata().Add("X-Key", "v").GetValue("x-key"));
    }
}
