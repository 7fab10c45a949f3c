using Plstm.Models.Language;

namespace Plstm.Tests.Language;

/// <summary>Temperature / top-k sampling and seeded generation.</summary>
public sealed class SamplingTests
{
    [Fact]
    public void Generation_is_deterministic_for_a_seed_and_streams_every_byte()
    {
        using var model = LanguageTestSupport.RandomTiny(31);
        model.train();
        var prompt = "To be, or not"u8.ToArray();
        var streamed = new List<byte>();
        var a = Sampling.Generate(model, prompt, 40, temperature: 1.0, topK: 20, seed: 7, onToken: streamed.Add);
        var b = Sampling.Generate(model, prompt, 40, temperature: 1.0, topK: 20, seed: 7);
        var c = Sampling.Generate(model, prompt, 40, temperature: 1.0, topK: 20, seed: 8);
        Assert.Equal(40, a.Length);
        Assert.Equal(a, b);
        Assert.Equal(a, streamed.ToArray());
        Assert.NotEqual(a, c);
        Assert.True(model.training);                                                     // mode restored
    }

    [Fact]
    public void Greedy_decoding_follows_the_arg_max_of_the_parallel_form()
    {
        using var model = LanguageTestSupport.RandomTiny(33);
        var prompt = "abc"u8.ToArray();
        var generated = Sampling.Generate(model, prompt, 12, temperature: 0);
        Assert.Equal(generated, Sampling.Generate(model, prompt, 12, temperature: 1.0, topK: 1, seed: 99));
        using var noGrad = no_grad();
        var all = prompt.Concat(generated).Select(v => (long)v).ToArray();
        var logits = model.forward(tensor(all, new long[] { 1, all.Length }));
        var argmax = logits[0, (prompt.Length - 1)..^1].argmax(1).data<long>().Select(v => (byte)v).ToArray();
        Assert.Equal(argmax, generated);
    }

    [Fact]
    public void Top_k_samples_only_among_the_k_largest_logits()
    {
        // Row 0 favours bytes 10, 20, 30 (in that order), row 1 bytes 200, 100.
        var logits = full(new long[] { 2, 256 }, -1.0f);
        logits[0, 10] = tensor(5.0f);
        logits[0, 20] = tensor(4.5f);
        logits[0, 30] = tensor(4.0f);
        logits[1, 200] = tensor(3.0f);
        logits[1, 100] = tensor(2.9f);
        var generator = new Generator(3);
        var seen0 = new HashSet<long>();
        var seen1 = new HashSet<long>();
        for (int i = 0; i < 300; i++)
        {
            var next = Sampling.SampleNext(logits, temperature: 2.0, topK: 2, generator).data<long>().ToArray();
            seen0.Add(next[0]);
            seen1.Add(next[1]);
        }
        Assert.Equal(new HashSet<long> { 10, 20 }, seen0);
        Assert.Equal(new HashSet<long> { 200, 100 }, seen1);
        // Without top-k, a high temperature reaches many bytes.
        var many = new HashSet<long>();
        for (int i = 0; i < 300; i++)
            many.Add(Sampling.SampleNext(logits, temperature: 100.0, topK: 0, generator)[0].item<long>());
        Assert.True(many.Count > 50, $"only {many.Count} distinct bytes");
        Assert.Equal(new long[] { 10, 200 }, Sampling.SampleNext(logits, 0, 0, null).data<long>().ToArray());
    }

    [Fact]
    public void Generation_works_for_the_transformer_and_from_an_empty_prompt()
    {
        using var model = new CausalTransformerLanguageModel(
            new CausalTransformerLanguageModelConfig { Dim = 32, NumHeads = 2, NumBlocks = 1, MaxContext = 16 });
        LanguageTestSupport.Reseed(model, 35);
        var a = Sampling.Generate(model, ReadOnlySpan<byte>.Empty, 30, temperature: 0.8, topK: 40, seed: 1);
        var b = Sampling.Generate(model, ReadOnlySpan<byte>.Empty, 30, temperature: 0.8, topK: 40, seed: 1);
        Assert.Equal(30, a.Length);
        Assert.Equal(a, b);
        Assert.Empty(Sampling.Generate(model, "x"u8, 0));
        Assert.Throws<ArgumentException>(() => Sampling.Generate(model, "x"u8, 3, temperature: -1));
    }
}
