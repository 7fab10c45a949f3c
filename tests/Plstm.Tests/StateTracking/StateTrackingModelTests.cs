using Plstm.Data.StateTracking;
using Plstm.Layers;
using Plstm.Models.StateTracking;
using Plstm.Tests.Support;
using Plstm.Training.StateTracking;

namespace Plstm.Tests.StateTracking;

/// <summary>Shapes, gradients, causality and length handling of the state-tracking models, and what the JT &gt; 1
/// transition parameterisation can express.</summary>
public sealed class StateTrackingModelTests
{
    private static StateTrackingModel Small(SequenceModelKind kind, int jt, int vocab = 120, int delay = 1, bool start = false) =>
        StateTrackingModel.Create(new StateTrackingModelConfig
        {
            Kind = kind, JT = jt, Dim = 16, NumHeads = 2, NumBlocks = 2, VocabSize = vocab, NumClasses = vocab,
            ReadoutDelay = delay, StartToken = start,
        });

    public static TheoryData<SequenceModelKind, int> Models => new()
    {
        { SequenceModelKind.Plstm, 1 },
        { SequenceModelKind.Plstm, 4 },
        { SequenceModelKind.Transformer, 1 },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void Forward_and_backward_have_the_expected_shapes(SequenceModelKind kind, int jt)
    {
        using var model = Small(kind, jt);
        foreach (int length in new[] { 1, 13, 40 })
        {
            var tokens = randint(0, 120, new long[] { 3, length }, dtype: ScalarType.Int64);
            var logits = model.forward(tokens);
            Assert.Equal(new long[] { 3, length, 120 }, logits.shape);
            model.zero_grad(true);
            logits.square().mean().backward();
            // With one position nothing reads the state (the mark reads the previous one), so the source gets no gradient.
            if (length == 1) continue;
            foreach (var (name, p) in model.named_parameters())
            {
                Assert.True(p.grad is not null, $"{name}: no gradient");
                Assert.Equal(p.shape, p.grad!.shape);
                Assert.True(p.grad.isfinite().all().item<bool>(), $"{name}: non-finite gradient");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Outputs_are_causal_up_to_the_delay_and_any_test_length_is_accepted(SequenceModelKind kind, int jt)
    {
        // Delay 0: the logits of t depend on tokens 0 … t; delay 1: on tokens 0 … t + 1 (the read-out position); a start
        // token shifts nothing.
        foreach (bool start in new[] { false, true })
        foreach (int delay in new[] { 0, 1 })
        {
            using var model = Small(kind, jt, delay: delay, start: start);
            model.eval();
            using var noGrad = no_grad();
            var tokens = randint(0, 120, new long[] { 2, 256 }, dtype: ScalarType.Int64);
            var changed = tokens.clone();
            changed[.., 100..] = (changed[.., 100..] + 7).remainder(120);
            var a = model.forward(tokens);
            var b = model.forward(changed);
            Assert.Equal(new long[] { 2, 256, 120 }, a.shape);
            int first = 100 - delay;
            TensorAssert.AssertClose(b[.., ..first], a[.., ..first], $"delay {delay}, start {start}: logits before the change", 1e-4, 1e-4);
            Assert.True((b[.., first] - a[.., first]).abs().max().item<float>() > 1e-5, $"delay {delay}, start {start}: logits after the change unchanged");
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void The_start_token_has_its_own_row_and_every_position_reads_it(SequenceModelKind kind, int jt)
    {
        foreach (int delay in new[] { 0, 1 })
        {
            using var model = Small(kind, jt, vocab: 5, delay: delay, start: true);
            model.eval();
            using var noGrad = no_grad();
            var embedding = model.get_parameter("embedding.weight")!;
            Assert.Equal(5 + delay + 1, embedding.shape[0]);
            var tokens = randint(0, 5, new long[] { 2, 9 }, dtype: ScalarType.Int64);
            var before = model.forward(tokens);
            embedding[5 + delay].add_(1.0f);                                               // the start token's row
            var after = model.forward(tokens);
            var change = (after - before).abs().amax(new long[] { 0, 2 });               // [T]
            Assert.True(change.gt(1e-5).all().item<bool>(), $"delay {delay}: a position does not read the start token");
        }
    }

    [Fact]
    public void The_configuration_is_checked()
    {
        var ex = Assert.Throws<ArgumentException>(() => Small(SequenceModelKind.Plstm, 0));
        Assert.Equal("JT", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() => StateTrackingModel.Create(new StateTrackingModelConfig { Dim = 30, NumHeads = 4 }));
        Assert.Equal("DK", ex.ParamName);
        using var model = Small(SequenceModelKind.Plstm, 4, vocab: 2);
        ex = Assert.Throws<ArgumentException>(() => model.forward(tensor(new long[] { 0, 2 }).reshape(1, 2)));
        Assert.Equal("tokens", ex.ParamName);
    }

    [Fact]
    public void The_transition_layer_reads_the_block_input_not_the_convolution()
    {
        var config = new StateTrackingModelConfig { JT = 4 }.LayerConfig();
        Assert.True(config.AdditionalConvolution);
        Assert.False(config.ReadsConvolution('T'));
        Assert.True(config.ReadsConvolution('K'));
    }

    [Fact]
    public void Jt4_transitions_are_input_dependent_near_orthogonal_and_can_reflect()
    {
        // Eigenvalue bias (1, 1, 1, −1): T = U·diag(tanh 5λ)·V with tanh(±5) = ±0.99991, so det T < 0 — a reflection.
        using var gate = new TransitionGate("t", 1, 8, 1, biasInit: 1.0, jt: 4);
        using (no_grad())
        {
            gate.EigenvaluesBias.copy_(tensor(new float[] { 1, 1, 1, -1 }).reshape(1, 4));
            gate.InprojWeight!.normal_(0, 0.2);
            gate.OutprojWeight!.normal_(0, 0.2);
        }
        var x = randn(2, 8);
        var t = gate.forward(x).squeeze(1);                                               // [2, 4, 4]
        var det = linalg.det(t);
        Assert.True(det.lt(-0.99).all().item<bool>(), $"det T should be ≈ −1, got {det[0].item<float>()}, {det[1].item<float>()}");
        var gram = t.transpose(-2, -1).matmul(t);
        TensorAssert.AssertClose(gram, eye(4).expand(2, 4, 4) * (float)Math.Pow(Math.Tanh(5), 2), "TᵀT", 1e-3, 1e-3);
        Assert.True((t[0] - t[1]).abs().max().item<float>() > 1e-2, "T does not depend on the input");
    }

    [Fact]
    public void An_odd_permutation_is_a_jt4_transition()
    {
        // The transposition (0 1) on four coordinates, det −1: T = U·diag(tanh 5λ)·V with V = I (identity in-projection
        // bias, zero skew part), λ = (1, 1, 1, −1) and U = P·diag(1, 1, 1, −1) ∈ SO(4), a rotation by π in the plane of
        // u = (e0 − e1)/√2 and e3, so log U = π·(u e3ᵀ − e3 uᵀ); the out-projection bias M = log U / 2 gives
        // A = M − Mᵀ = log U. Then T = P·tanh(5).
        using var gate = new TransitionGate("t", 1, 4, 1, biasInit: 1.0, jt: 4);
        var u = tensor(new float[] { 1, -1, 0, 0 }) / (float)Math.Sqrt(2);
        var e3 = tensor(new float[] { 0, 0, 0, 1 });
        var logU = (outer(u, e3) - outer(e3, u)) * (float)Math.PI;
        using (no_grad())
        {
            gate.EigenvaluesBias.copy_(tensor(new float[] { 1, 1, 1, -1 }).reshape(1, 4));
            gate.OutprojBias!.copy_((logU / 2).reshape(1, 4, 4));
        }
        var t = gate.forward(zeros(1, 4)).reshape(4, 4);
        var p = tensor(new float[] { 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1 }).reshape(4, 4);
        TensorAssert.AssertClose(t, p * (float)Math.Tanh(5), "T", 1e-4, 1e-4);
    }

    [Fact]
    public void Evaluation_counts_correct_positions()
    {
        using var model = Small(SequenceModelKind.Plstm, 1, vocab: 2);
        var set = StateTrackingGenerator.TestSet(StateTrackingTask.Parity, 1, 5, 12);
        var result = StateTrackingEvaluation.Evaluate(model, set, 2, CPU);
        Assert.Equal(12, result.Length);
        Assert.Equal(5, result.Sequences);
        Assert.Equal(12, result.PositionAccuracy.Count);
        Assert.Equal(result.PositionAccuracy.Average(), result.Accuracy, 12);
        Assert.Equal(result.PositionAccuracy[^1], result.LastAccuracy);
        Assert.All(result.PositionAccuracy, a => Assert.Equal(0, a * 5 % 1, 9));
    }
}
