using Plstm.Interop;
using Plstm.Models.Language;
using Plstm.Tests.Support;
using Xunit.Abstractions;

namespace Plstm.Tests.Language;

/// <summary>Shapes, causality, streaming (prefill / step / segments) and validation of <see cref="PlstmLanguageModel"/>.</summary>
public sealed class PlstmLanguageModelTests(ITestOutputHelper output)
{
    [Fact]
    public void Forward_maps_tokens_to_byte_logits_and_the_state_has_the_documented_layout()
    {
        using var model = LanguageTestSupport.RandomTiny(1);
        using var noGrad = no_grad();
        var tokens = LanguageTestSupport.RandomTokens(3, 11, 2);
        Assert.Equal(new long[] { 3, 11, 256 }, model.forward(tokens).shape);
        Assert.Equal(ScalarType.Float32, model.forward(tokens).dtype);

        using var state = model.Prefill(tokens, out var logits);
        Assert.Equal(new long[] { 3, 11, 256 }, logits.shape);
        Assert.Equal(11, state.Position);
        Assert.Equal(3, state.BatchSize);
        Assert.Equal(2, state.NumLayers);
        foreach (var cell in state.CellStates)
            Assert.Equal(new long[] { 3 * 2, 16, 4, 4 }, cell.shape);                   // [B·H, DK, DV, JT]
        foreach (var history in state.ConvolutionHistories)
            Assert.Equal(new long[] { 3, 3, 32 }, history!.shape);                       // [B, K−1, D]

        var next = model.Step(tensor(new long[] { 1, 2, 255 }), state);
        Assert.Equal(new long[] { 3, 256 }, next.shape);
        Assert.Equal(12, state.Position);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(20)]
    public void Logits_at_t_do_not_depend_on_later_tokens(int t)
    {
        using var model = LanguageTestSupport.RandomTiny(3);
        using var noGrad = no_grad();
        var tokens = LanguageTestSupport.RandomTokens(2, 40, 4);
        var changed = tokens.clone();
        changed[.., (t + 1)..] = (changed[.., (t + 1)..] + 17).remainder(256);
        var a = model.forward(tokens);
        var b = model.forward(changed);
        TensorAssert.AssertClose(b[.., ..(t + 1)], a[.., ..(t + 1)], "logits up to t", 0, 1e-6);
        Assert.True((b[.., t + 1] - a[.., t + 1]).abs().max().item<float>() > 1e-3, "logits after t unchanged");
        // The prefix alone gives the same logits.
        TensorAssert.AssertClose(model.forward(tokens[.., ..(t + 1)]), a[.., ..(t + 1)], "prefix run", 0, 1e-5);
    }

    [Fact]
    public void Streaming_one_token_at_a_time_equals_the_parallel_form_over_1000_tokens()
    {
        // float32, several chunks (levels 4 = 16 positions per chunk), randomised gates so that state and conv matter.
        const int length = 1000;
        using var model = LanguageTestSupport.RandomTiny(5, levels: 4);
        using var noGrad = no_grad();
        var tokens = LanguageTestSupport.RandomTokens(2, length, 6);
        var parallel = model.forward(tokens);                                           // [2, 1000, 256]

        using var reference = model.Prefill(tokens);
        using var state = model.InitialState(2);
        var streamed = new Tensor[length];
        for (int t = 0; t < length; t++)
        {
            using var scope = NewDisposeScope();
            streamed[t] = model.Step(tokens[.., t], state).MoveToOuterDisposeScope();
        }
        var stepped = stack(streamed, 1);                                               // [2, 1000, 256]
        double error = LanguageTestSupport.RelativeError(stepped, parallel);
        output.WriteLine($"1000 tokens, float32: max |step − parallel| / max |parallel| = {error:E3}");
        Assert.True(error <= 1e-5, $"streaming vs parallel: relative error {error:E3} > 1e-5");
        Assert.Equal(length, state.Position);

        // The streamed state equals the parallel form's final state, convolution history included.
        for (int i = 0; i < state.NumLayers; i++)
        {
            double cellError = LanguageTestSupport.RelativeError(state.CellStates[i], reference.CellStates[i]);
            Assert.True(cellError <= 1e-5, $"layer {i} cell state: relative error {cellError:E3}");
            TensorAssert.AssertClose(state.ConvolutionHistories[i]!, reference.ConvolutionHistories[i]!,
                $"layer {i} convolution history", 1e-5, 1e-6);
        }
    }

    [Theory]
    [InlineData(1, 30)]
    [InlineData(2, 25)]
    [InlineData(37, 20)]
    public void Prefill_then_steps_equals_the_parallel_form(int prefix, int steps)
    {
        using var model = LanguageTestSupport.RandomTiny(7);
        using var noGrad = no_grad();
        var tokens = LanguageTestSupport.RandomTokens(3, prefix + steps, 8);
        var parallel = model.forward(tokens);

        using var state = model.Prefill(tokens[.., ..prefix], out var prefixLogits);
        var outputs = new List<Tensor> { prefixLogits };
        for (int t = prefix; t < prefix + steps; t++)
            outputs.Add(model.Step(tokens[.., t], state).unsqueeze(1));
        double error = LanguageTestSupport.RelativeError(cat(outputs, 1), parallel);
        Assert.True(error <= 1e-5, $"prefill + steps vs parallel: relative error {error:E3}");
    }

    [Fact]
    public void Segments_carry_the_pLSTM_state_and_the_convolution_history()
    {
        // Segments shorter than K − 1 = 3 exercise histories that span several segments.
        using var model = LanguageTestSupport.RandomTiny(9, float64: true);
        using var noGrad = no_grad();
        var tokens = LanguageTestSupport.RandomTokens(2, 40, 10);
        var parallel = model.forward(tokens);
        using var state = model.InitialState(2);
        var parts = new List<Tensor>();
        int start = 0;
        foreach (int size in new[] { 1, 2, 5, 1, 17, 14 })
        {
            parts.Add(model.Forward(tokens[.., start..(start + size)], state));
            start += size;
        }
        Assert.Equal(40, start);
        TensorAssert.AssertClose(cat(parts, 1), parallel, "segmented vs parallel (float64)", 1e-9, 1e-10);
    }

    [Fact]
    public void Segments_without_the_convolution_history_would_differ()
    {
        // Guard that the conv history matters: resetting it between segments changes the logits.
        using var model = LanguageTestSupport.RandomTiny(11, float64: true);
        using var noGrad = no_grad();
        var tokens = LanguageTestSupport.RandomTokens(1, 24, 12);
        var parallel = model.forward(tokens);
        using var state = model.Prefill(tokens[.., ..12]);
        using var broken = state.Clone();
        for (int i = 0; i < broken.NumLayers; i++)
            broken.ConvolutionHistories[i]!.zero_();
        var good = model.Forward(tokens[.., 12..], state);
        var bad = model.Forward(tokens[.., 12..], broken);
        TensorAssert.AssertClose(good, parallel[.., 12..], "with history", 1e-9, 1e-10);
        Assert.True((bad - good).abs().max().item<double>() > 1e-4, "zeroing the history changed nothing");
    }

    [Fact]
    public void Clone_branches_a_prefix_independently()
    {
        using var model = LanguageTestSupport.RandomTiny(13);
        using var noGrad = no_grad();
        var tokens = LanguageTestSupport.RandomTokens(1, 10, 14);
        using var state = model.Prefill(tokens);
        using var copy = state.Clone();
        var a = model.Step(tensor(new long[] { 65 }), state);
        var b = model.Step(tensor(new long[] { 65 }), copy);
        TensorAssert.AssertClose(b, a, "same branch", 0, 0);
        var c = model.Step(tensor(new long[] { 66 }), state);
        var d = model.Step(tensor(new long[] { 67 }), copy);
        Assert.True((c - d).abs().max().item<float>() > 1e-4, "branches are not independent");
    }

    [Fact]
    public void Invalid_tokens_and_states_are_rejected_with_clear_messages()
    {
        using var model = LanguageTestSupport.RandomTiny(15);
        using var noGrad = no_grad();
        var ex = Assert.Throws<ArgumentException>(() => model.forward(tensor(new long[] { 1, 256 }).reshape(1, 2)));
        Assert.Contains("0…255", ex.Message);
        Assert.Throws<ArgumentException>(() => model.forward(zeros(2, 3)));                  // float tokens
        Assert.Throws<ArgumentException>(() => model.forward(zeros(new long[] { 4 }, dtype: int64))); // rank 1
        using var state = model.InitialState(2);
        var batch = Assert.Throws<ArgumentException>(() => model.Step(tensor(new long[] { 1, 2, 3 }), state));
        Assert.Contains("B = 2", batch.Message);
        state.Dispose();
        Assert.Throws<ObjectDisposedException>(() => model.Step(tensor(new long[] { 1, 2 }), state));
    }

    [Fact]
    public void Parameter_names_are_registered_once()
    {
        using var model = LanguageTestSupport.RandomTiny(17);
        var names = model.named_parameters().Select(p => p.name).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.Equal(model.parameters().Count(), names.Count);
        Assert.Contains("embedding.weight", names);
        Assert.Contains("block_stack.blocks.0.norm.scale", names);
        Assert.Contains("block_stack.blocks.1.interaction_module.transition.eigenvalues_bias", names);
        Assert.Contains("block_stack.blocks.0.interaction_module.conv._conv.weight", names);
        Assert.Contains("norm.scale", names);
        Assert.Contains("head.bias", names);
        Assert.Equal(names.Count, model.state_dict().Count);
    }

    [Fact]
    public void A_checkpoint_round_trip_restores_the_logits()
    {
        using var model = LanguageTestSupport.RandomTiny(19);
        var path = Path.Combine(Path.GetTempPath(), $"plstm-lm-{Guid.NewGuid():N}.safetensors");
        try
        {
            ModelCheckpoint.Save(model, path);
            using var restored = new PlstmLanguageModel(LanguageTestSupport.Tiny());
            restored.eval();
            ModelCheckpoint.Load(restored, path);
            using var noGrad = no_grad();
            var tokens = LanguageTestSupport.RandomTokens(1, 9, 21);
            TensorAssert.AssertClose(restored.forward(tokens), model.forward(tokens), "restored logits", 0, 0);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
