using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Microservices.Registry.Import;
using Microservices.Registry.Models;

namespace Microservices.Fuzz.Tests.Registry;

/// <summary>
/// ModelListParser documents no exception at all: every bad line becomes an ImportLineError with
/// its line number, and the rest of the file still parses.
/// </summary>
public sealed class ModelListParserFuzz
{
    private const string Owner = "alice";

    private static readonly Gen<string> IdChars = Gen.Elements("a", "Z", "0", "-", "_", ".", "/", ":", "é", "日", "😀", "%");

    private static Gen<string> Identifier(int maxLength) =>
        Gen.Choose(1, Math.Min(maxLength, 40)).SelectMany(n => Gen.ArrayOf(IdChars, n)).Select(parts => string.Concat(parts))
            .Where(s => s.Length <= maxLength);

    private static readonly Gen<string> Separator = Gen.Elements(" ", "\t", "  ", " \t ");

    private sealed record ModelLine(string ModelId, string AuthorRepo, string Branch, string ConfigPath, string Alias, string? Status);

    private static readonly Gen<ModelLine> ValidLine =
        from id in Identifier(ModelRules.MaxModelIdLength)
        from repo in Identifier(ModelRules.MaxRepoOrBranchLength)
        from branch in Identifier(ModelRules.MaxRepoOrBranchLength)
        from path in Identifier(ModelRules.MaxConfigPathLength)
        from alias in Identifier(ModelRules.MaxAliasLength)
        from status in Gen.Elements<string?>(null, "READY", "RUNNING")
        select new ModelLine(id, repo, branch, path, alias, status);

    private static string Format(ModelLine line, string[] separators)
    {
        string?[] fields = [line.ModelId, line.AuthorRepo, line.Branch, line.ConfigPath, line.Alias, line.Status];
        var text = new StringBuilder();
        for (var i = 0; i < fields.Length && fields[i] is not null; i++)
        {
            text.Append(i == 0 ? "" : separators[i % separators.Length]).Append(fields[i]);
        }

        return text.ToString();
    }

    [Fact]
    public void Arbitrary_bytes_are_reported_line_by_line_and_never_throw()
    {
        // Raw bytes, and files of near-valid lines with bytes spliced in.
        var nearValid = Gen.ListOf(Gen.OneOf(
                ValidLine.Select(l => Format(l, [" "])),
                Gen.Elements("", " ", "\t", "a b c d e", "a b c d e f g", "a b c d e DONE", "a b c d e\u0085", "a\u00A0b c d e f", "\uFEFFa b c d e")))
            .SelectMany(lines => Fuzzing.Bytes(8).Select(noise => Encoding.UTF8.GetBytes(string.Join("\n", lines)).Concat(noise).ToArray()));
        var input = Gen.OneOf(Fuzzing.Bytes(2000), nearValid);

        Fuzzing.Check(input, 400, bytes =>
        {
            var parsed = ModelListParser.Parse(bytes, Owner);
            var lines = CountLines(bytes);
            Assert.Equal(lines, parsed.Rows.Count + parsed.Errors.Count + parsed.BlankLines);
            Assert.All(parsed.Errors, e => Assert.InRange(e.LineNumber, 1, lines));
            var numbers = parsed.Rows.Select(r => r.LineNumber).Concat(parsed.Errors.Select(e => e.LineNumber)).ToList();
            Assert.Equal(numbers.Count, numbers.Distinct().Count());
            Assert.All(parsed.Rows, r => ModelRules.NewModel(r.Model));
        });
    }

    [Fact]
    public void A_valid_file_round_trips_to_the_same_models()
    {
        var file =
            from lines in Gen.NonEmptyListOf(ValidLine)
            from separators in Gen.ArrayOf(Separator, 5)
            from crlf in Gen.Elements(false, true)
            from bom in Gen.Elements(false, true)
            from blankEvery in Gen.Choose(0, 4)
            select (Lines: lines.DistinctBy(l => l.ModelId).DistinctBy(l => l.Alias).ToList(), separators, crlf, bom, blankEvery);

        Fuzzing.Check(file, 300, f =>
        {
            var newline = f.crlf ? "\r\n" : "\n";
            var text = new StringBuilder(f.bom ? "\uFEFF" : "");
            var expectedLine = new List<int>();
            var lineNumber = 0;
            for (var i = 0; i < f.Lines.Count; i++)
            {
                if (f.blankEvery > 0 && i % f.blankEvery == 0)
                {
                    text.Append(" \t").Append(newline);
                    lineNumber++;
                }

                text.Append(Format(f.Lines[i], f.separators)).Append(newline);
                expectedLine.Add(++lineNumber);
            }

            var parsed = ModelListParser.Parse(Encoding.UTF8.GetBytes(text.ToString()), Owner);
            Assert.Empty(parsed.Errors);
            Assert.Equal(f.Lines.Count, parsed.Rows.Count);
            for (var i = 0; i < f.Lines.Count; i++)
            {
                var (want, got) = (f.Lines[i], parsed.Rows[i]);
                Assert.Equal(expectedLine[i], got.LineNumber);
                Assert.Equal(
                    (Owner, want.ModelId, want.AuthorRepo, want.Branch, want.ConfigPath, want.Alias, want.Status == "RUNNING" ? ModelStatus.Running : ModelStatus.Ready),
                    (got.Model.Owner, got.Model.ModelId, got.Model.AuthorRepo, got.Model.Branch, got.Model.ConfigPath, got.Model.Alias, got.Model.Status));
                Assert.Equal(SourceTypeInference.Infer(want.ModelId, want.AuthorRepo, want.Branch), got.Model.SourceType);
            }
        });
    }

    [Fact]
    public void A_field_over_its_limit_rejects_that_line_only()
    {
        int[] limits = [ModelRules.MaxModelIdLength, ModelRules.MaxRepoOrBranchLength, ModelRules.MaxRepoOrBranchLength, ModelRules.MaxConfigPathLength, ModelRules.MaxAliasLength];
        string[] names = ["model_id", "author_repo", "branch", "config_path", "alias"];
        var cases =
            from line in ValidLine
            from field in Gen.Choose(0, 4)
            from extra in Gen.Frequency((4, Gen.Choose(1, 3)), (1, Gen.Choose(4, 200_000)))
            select (line, field, extra);

        Fuzzing.Check(cases, 100, c =>
        {
            var fields = new[] { c.line.ModelId, c.line.AuthorRepo, c.line.Branch, c.line.ConfigPath, c.line.Alias };
            fields[c.field] = new string('x', limits[c.field] + c.extra);
            var good = Format(c.line with { ModelId = "good-" + c.line.ModelId, Alias = "good-" + c.line.Alias }, [" "]);
            var bad = string.Join(' ', fields);
            var bytes = Encoding.UTF8.GetBytes($"{bad}\n{good}\n");

            var parsed = ModelListParser.Parse(bytes, Owner);
            var error = Assert.Single(parsed.Errors);
            Assert.Equal(1, error.LineNumber);

            // A line past MaxLineBytes is refused by its length before its fields are read.
            var badBytes = Encoding.UTF8.GetByteCount(bad);
            Assert.StartsWith(
                badBytes > ModelListParser.MaxLineBytes ? $"the line is {badBytes} bytes; a model.list line is at most {ModelListParser.MaxLineBytes}" : $"{names[c.field]}: must be at most {limits[c.field]} characters",
                error.Reason,
                StringComparison.Ordinal);
            Assert.Equal(2, Assert.Single(parsed.Rows).LineNumber);
        });
    }

    private static int CountLines(byte[] bytes)
    {
        var content = bytes.AsSpan();
        if (content.StartsWith("\uFEFF"u8))
        {
            content = content[3..];
        }

        if (content.IsEmpty)
        {
            return 0;
        }

        var newlines = content.Count((byte)'\n');
        return content[^1] == (byte)'\n' ? newlines : newlines + 1;
    }
}
