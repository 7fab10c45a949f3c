using Plstm.Models.Language;
using Plstm.Tests.Support;

namespace Plstm.Tests.Language;

/// <summary>Shapes, causality, context limit and decoding of <see cref="CausalTransformerLanguageModel"/>.</summary>
public sealed class CausalTransformerLanguageModelTests
{
    private static CausalTransformerLanguageModel Small(int maxContext = 32)
    {
        var model = new CausalTransformerLanguageModel(
            new CausalTransformerLanguageModelConfig { Dim = 32, NumHeads = 4, NumBlocks = 2, MaxContext = maxContext });
        LanguageTestSupport.Reseed(model, 21);
        model.eval();
        return model;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(9)]
    [InlineData(30)]
    public void Logits_at_t_do_not_depend_on_later_tokens(int t)
    {
        using var model = Small();
        using var noGrad = no_grad();
        var tokens = LanguageTestSupport.RandomTokens(2, 32, 22);
        var changed = tokens.clone();
        changed[.., (t + 1)..] = (changed[.., (t + 1)..] + 101).remainder(256);
        var a = model.forward(tokens);
        var b = model.forward(changed);
        Assert.Equal(new long[] { 2, 32, 256 }, a.shape);
        TensorAssert.AssertClose(b[.., ..(t + 1)], a[.., ..(t + 1)], "logits up to t", 1e-5, 1e-5);
        Assert.True((b[.., t + 1] - a[.., t + 1]).abs().max().item<float>() > 1e-4, "logits after t unchanged");
    }

    [Fact]
    public void Longer_inputs_than_the_context_are_rejected()
    {
        using var model = Small(maxContext: 8);
        var ex = Assert.Throws<ArgumentException>(() => model.forward(LanguageTestSupport.RandomTokens(1, 9, 23)));
        Assert.Contains("maximal context 8", ex.Message);
    }

    [Fact]
    public void Decoding_equals_the_parallel_form_and_slides_past_the_context()
    {
        using var model = Small(maxContext: 8);
        using var noGrad = no_grad();
        var tokens = LanguageTestSupport.RandomTokens(2, 12, 24);
        var parallel = model.forward(tokens[.., ..8]);
        using var decoder = model.StartDecoding(tokens[.., ..3], out var first);
        var outputs = new List<Tensor> { first };
        for (int t = 3; t < 8; t++)
            outputs.Add(decoder.Step(tokens[.., t]));
        TensorAssert.AssertClose(stack(outputs.Take(outputs.Count - 1), 1), parallel[.., 2..7], "decoded logits", 1e-5, 1e-5);
        TensorAssert.AssertClose(outputs[^1], parallel[.., 7], "last in-context logits", 1e-5, 1e-5);
        // Past the context the window slides: the logits are those of the last 8 tokens.
        var slid = decoder.Step(tokens[.., 8]);
        TensorAssert.AssertClose(slid, model.forward(tokens[.., 1..9])[.., 7], "slid window", 1e-5, 1e-5);
        Assert.Equal(9, decoder.Position);
    }

    [Fact]
    public void Parameter_names_are_registered_once()
    {
        using var model = Small();
        var names = model.named_parameters().Select(p => p.name).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.Contains("pos_embed", names);
        Assert.Contains("block_stack.blocks.1.qkv.weight", names);
        Assert.Equal(names.Count, model.state_dict().Count);
        // 12D² + 13D per block (inner 4D = 128 for D = 32).
        long block = 12 * 32 * 32 + 13 * 32;
        Assert.Equal(2 * block + 256 * 32 + 32 * 32 + 32 + 32 * 256 + 256, model.ParameterCount());
    }
}
