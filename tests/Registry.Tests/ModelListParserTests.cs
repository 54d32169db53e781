using System.Text;
using Microservices.Registry.Import;
using Microservices.Registry.Models;

namespace Microservices.Registry.Tests;

public sealed class ModelListParserTests
{
    private static ParsedModelList Parse(string text) => ModelListParser.Parse(Encoding.UTF8.GetBytes(text), "alice");

    [Fact]
    public void Six_and_five_field_lines_parse_with_status_defaulting_to_ready()
    {
        var parsed = Parse(
            "huggingface.co/bartowski/llama/Q4.gguf bartowski/llama main models/q4.yaml q4 RUNNING\n" +
            "tinyllama cortexso/tinyllama 1b-gguf models/tiny.yaml tinyllama\n");

        Assert.Empty(parsed.Errors);
        Assert.Equal(2, parsed.Rows.Count);
        Assert.Equal(ModelStatus.Running, parsed.Rows[0].Model.Status);
        Assert.Equal(SourceType.HuggingFace, parsed.Rows[0].Model.SourceType);
        Assert.Equal(ModelStatus.Ready, parsed.Rows[1].Model.Status);
        Assert.Equal(SourceType.CortexSo, parsed.Rows[1].Model.SourceType);
        Assert.Equal("q4", parsed.Rows[0].Model.Alias);
    }

    [Theory]
    [InlineData("my-model local imported /tmp/m.yaml mine READY", "local")]
    [InlineData("huggingface.co/a/b/c.gguf a/b main c.yaml c READY", "huggingface")]
    [InlineData("llama3 cortexso/llama3 8b-gguf l.yaml llama3 READY", "cortex.so")]
    [InlineData("x.gguf someone/repo main x.yaml x READY", "huggingface")]
    [InlineData("tinyllama tinyllama main t.yaml t READY", "cortex.so")]
    public void Source_type_is_inferred_by_the_documented_rule(string line, string expected)
    {
        Assert.Equal(SourceTypes.FromStorage(expected), Assert.Single(Parse(line).Rows).Model.SourceType);
    }

    [Fact]
    public void A_line_longer_than_any_valid_one_is_refused_by_its_length_and_the_next_lines_still_parse()
    {
        // The longest line the field limits allow (in 4-byte characters) fits; one byte over MaxLineBytes does not.
        var longest = $"{new string('m', ModelRules.MaxModelIdLength)} {new string('r', ModelRules.MaxRepoOrBranchLength)} {new string('b', ModelRules.MaxRepoOrBranchLength)} {new string('c', ModelRules.MaxConfigPathLength)} {new string('a', ModelRules.MaxAliasLength)} RUNNING";
        Assert.True(Encoding.UTF8.GetByteCount(longest) * 4 < ModelListParser.MaxLineBytes);
        var huge = new string('x', ModelListParser.MaxLineBytes + 1);

        var parsed = Parse($"{longest}\n{huge}\ntiny cortexso/tiny 1b tiny.yaml tiny\n");

        Assert.Equal([1, 3], parsed.Rows.Select(r => r.LineNumber));
        var error = Assert.Single(parsed.Errors);
        Assert.Equal(2, error.LineNumber);
        Assert.Equal($"the line is {ModelListParser.MaxLineBytes + 1} bytes; a model.list line is at most {ModelListParser.MaxLineBytes}", error.Reason);
    }

    [Fact]
    public void Bom_crlf_and_blank_lines_are_tolerated()
    {
        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes("a r b c.yaml a READY\r\n\r\nb r b c.yaml b RUNNING\r\n")).ToArray();
        var parsed = ModelListParser.Parse(bytes, "alice");

        Assert.Empty(parsed.Errors);
        Assert.Equal(["a", "b"], parsed.Rows.Select(r => r.Model.ModelId));
        Assert.Equal(ModelStatus.Running, parsed.Rows[1].Model.Status);
        Assert.Equal(1, parsed.BlankLines);
    }

    [Fact]
    public void Bad_lines_are_reported_by_number_while_good_lines_parse()
    {
        var garbage = new byte[] { 0xff, 0xfe, 0x00, 0x81, 0xc3, 0x28, (byte)'\n' };
        var text = Encoding.UTF8.GetBytes(
            "good1 r b c.yaml g1 READY\n" +
            "seven r b c.yaml s READY extra\n" +
            "four r b c.yaml\n" +
            "status r b c.yaml st STOPPED\n" +
            "good1 r b c.yaml other READY\n" +
            "ctl\u0001id r b c.yaml ctl READY\n" +
            "good2 r b c.yaml g1 READY\n");
        var parsed = ModelListParser.Parse(text.Concat(garbage).Concat(Encoding.UTF8.GetBytes("good3 r b c.yaml g3\n")).ToArray(), "alice");

        Assert.Equal(["good1", "good3"], parsed.Rows.Select(r => r.Model.ModelId));
        Assert.Equal([2, 3, 4, 5, 6, 7, 8], parsed.Errors.Select(e => e.LineNumber));
        Assert.Contains("found 7", parsed.Errors[0].Reason);
        Assert.Contains("found 4", parsed.Errors[1].Reason);
        Assert.Contains("READY or RUNNING", parsed.Errors[2].Reason);
        Assert.Contains("repeats line 1", parsed.Errors[3].Reason);
        Assert.Contains("control character", parsed.Errors[4].Reason);
        Assert.Contains("alias 'g1' repeats line 1", parsed.Errors[5].Reason);
        Assert.Contains("UTF-8", parsed.Errors[6].Reason);
    }

    [Fact]
    public void Fields_breaking_registry_rules_are_reported_with_the_field()
    {
        var parsed = Parse(new string('x', ModelRules.MaxModelIdLength + 1) + " r b c.yaml a READY\n");
        Assert.Contains("model_id: must be at most 512", Assert.Single(parsed.Errors).Reason);
    }

    [Fact]
    public void A_file_of_more_bad_lines_than_the_report_holds_is_refused_as_a_whole()
    {
        var junk = string.Concat(Enumerable.Repeat("x\n", ModelListParser.MaxBadLines + 1));
        Assert.Equal(ModelListParser.MaxBadLines, Parse(string.Concat(Enumerable.Repeat("x\n", ModelListParser.MaxBadLines))).Errors.Count);

        var e = Assert.Throws<RegistryException>(() => Parse(junk + "x\n"));

        Assert.Equal(RegistryErrorKind.ResourceExhausted, e.Kind);
        Assert.Contains($"more than {ModelListParser.MaxBadLines} bad lines (the first at line 1:", e.Message);
    }
}
