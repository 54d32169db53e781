using Microservices.Registry.Aliases;

namespace Microservices.Registry.Tests;

public sealed class AliasGeneratorTests
{
    [Fact]
    public void Candidates_follow_the_cortex_rule_shortest_first_then_numbers()
    {
        var candidates = AliasGenerator.Candidates("huggingface.co/bartowski/llama3.1-7b-gguf/Model_ID_Xxx.gguf").Take(7).ToList();

        Assert.Equal(
            [
                "model_id_xxx",
                "llama3.1-7b-gguf:model_id_xxx",
                "bartowski:llama3.1-7b-gguf:model_id_xxx",
                "huggingface.co:bartowski:llama3.1-7b-gguf:model_id_xxx",
                "model_id_xxx-2",
                "model_id_xxx-3",
                "model_id_xxx-4",
            ],
            candidates);
    }

    [Fact]
    public void A_bare_name_without_extension_is_its_own_first_candidate()
    {
        Assert.Equal(["tinyllama", "tinyllama-2"], AliasGenerator.Candidates("TinyLlama").Take(2));
    }

    [Fact]
    public void Long_ids_give_aliases_within_the_limit()
    {
        var id = string.Join('/', Enumerable.Repeat(new string('a', 100), 4)) + "/file.gguf";
        Assert.All(AliasGenerator.Candidates(id).Take(10), alias => Assert.InRange(alias.Length, 1, Models.ModelRules.MaxAliasLength));
    }
}
