using Plstm.Ops.TwoD;
using Plstm.Tests.Support;

namespace Plstm.Tests.Ops;

/// <summary>
/// <see cref="Plstm2DRowScan"/> (and the fused operator with <see cref="Plstm2DForm.RowScan"/>) against the oracle
/// <see cref="Plstm2DNaive"/>: outputs and the gradients of every input, on awkward grids (1 × 1, single rows and
/// columns, long thin grids, both scan axes: Y ≤ X scans along y, Y &gt; X along x), every transition wiring and the
/// layers' P- and D-mode gate shapes; float32 against float64; the fall-backs for entering states and J &gt; 1.
/// </summary>
public class RowScanOperatorTests
{
    private static readonly string[] InputNames = TwoDOperatorTests.InputNames;
    private static readonly string[] FusedNames = FusedOperatorTests.InputNames;

    private static Differentiate.Result RunOutput(Plstm2DInputs inputs, Func<Plstm2DInputs, Tensor> form) =>
        Differentiate.Run(TwoDOperatorTests.ToArray(inputs), a => new[] { form(TwoDOperatorTests.FromArray(a)) });

    private static Differentiate.Result RunFused(Plstm2DFusedInputs inputs, Plstm2DForm form) =>
        Differentiate.Run(FusedOperatorTests.ToArray(inputs),
            a => new[] { Plstm2DFused.Forward(FusedOperatorTests.FromArray(a), 2, form: form) });

    [Theory]
    [InlineData(1, 1, "random-all")]
    [InlineData(1, 7, "P")]
    [InlineData(7, 1, "D-L")]
    [InlineData(2, 2, "D-R")]
    [InlineData(3, 5, "random-all")]
    [InlineData(5, 3, "random-all")]
    [InlineData(6, 6, "P")]
    [InlineData(9, 4, "D-R")]
    [InlineData(4, 9, "D-L")]
    [InlineData(2, 17, "random-straight")]
    [InlineData(13, 2, "P")]
    [InlineData(14, 14, "P")]
    public void RowScan_equals_naive_output_and_gradients(int x, int y, string kind)
    {
        using var scope = NewDisposeScope();
        var inputs = ChunkwiseOperatorTests.ScalarInputs(seed: 5000 + 31 * x + y, x, y, kind, withInitial: false);
        FormComparison.AssertSame(RunOutput(inputs, i => Plstm2DRowScan.Output(i)),
            RunOutput(inputs, i => Plstm2DNaive.Forward(i).Y), new[] { "Y" }, InputNames);
    }

    [Theory]
    [InlineData(8, 8, "P")]
    [InlineData(12, 5, "D-L")]
    [InlineData(5, 12, "random-all")]
    public void RowScan_float32_matches_float64_naive(int x, int y, string kind)
    {
        using var scope = NewDisposeScope();
        var inputs64 = ChunkwiseOperatorTests.ScalarInputs(seed: 5100 + x + y, x, y, kind, withInitial: false);
        var inputs32 = TwoDOperatorTests.FromArray(TwoDOperatorTests.ToArray(inputs64).Select(t => t?.to(float32)).ToArray());
        FormComparison.AssertSame(RunOutput(inputs32, i => Plstm2DRowScan.Output(i)),
            RunOutput(inputs64, i => Plstm2DNaive.Forward(i).Y), new[] { "Y" }, InputNames, float32: true);
    }

    /// <summary>Entering border states cannot be expressed by 𝒢 alone: the form hands such inputs to the chunkwise form,
    /// and the result (incl. the states' gradients) must still be the naive one.</summary>
    [Theory]
    [InlineData(4, 6, "P")]
    [InlineData(7, 3, "random-all")]
    public void RowScan_with_initial_states_equals_naive(int x, int y, string kind)
    {
        using var scope = NewDisposeScope();
        var inputs = ChunkwiseOperatorTests.ScalarInputs(seed: 5200 + x + y, x, y, kind, withInitial: true);
        FormComparison.AssertSame(RunOutput(inputs, i => Plstm2DRowScan.Output(i)),
            RunOutput(inputs, i => Plstm2DNaive.Forward(i).Y), new[] { "Y" }, InputNames);
    }

    [Theory]
    [InlineData(1, 1, "all")]
    [InlineData(5, 3, "DL")]
    [InlineData(3, 5, "DR")]
    [InlineData(7, 7, "all")]
    [InlineData(2, 13, "straight")]
    [InlineData(11, 6, "all")]
    public void Fused_rowscan_equals_naive_outputs_and_gradients(int x, int y, string wiring)
    {
        using var scope = NewDisposeScope();
        var inputs = RandomInputs.Fused(seed: 5300 + 7 * x + y, B: 2, X: x, Y: y, DK: 3, DV: 2, JDims.Scalar,
            withDl: wiring is "all" or "DR", withRu: wiring is "all" or "DL");
        FormComparison.AssertSame(RunFused(inputs, Plstm2DForm.RowScan), RunFused(inputs, Plstm2DForm.Naive),
            new[] { "Y" }, FusedNames);
    }

    /// <summary>Recomputing the gate in backward (checkpointing through <c>RecomputedGates</c>) must give the naive
    /// output and gradients too, plain and fused, with and without turns.</summary>
    [Theory]
    [InlineData(5, 4, "P")]
    [InlineData(3, 8, "D-R")]
    public void RowScan_recomputed_in_backward_equals_naive(int x, int y, string kind)
    {
        using var scope = NewDisposeScope();
        var inputs = ChunkwiseOperatorTests.ScalarInputs(seed: 5600 + x + y, x, y, kind, withInitial: false);
        FormComparison.AssertSame(RunOutput(inputs, i => Plstm2DRowScan.Output(i, recomputeInBackward: true)),
            RunOutput(inputs, i => Plstm2DNaive.Forward(i).Y), new[] { "Y" }, InputNames);
    }

    [Theory]
    [InlineData(6, 5, "all")]
    [InlineData(4, 7, "DL")]
    public void Fused_rowscan_recomputed_in_backward_equals_naive(int x, int y, string wiring)
    {
        using var scope = NewDisposeScope();
        var inputs = RandomInputs.Fused(seed: 5700 + x + y, B: 2, X: x, Y: y, DK: 3, DV: 2, JDims.Scalar,
            withDl: wiring is "all" or "DR", withRu: wiring is "all" or "DL");
        var recomputed = Differentiate.Run(FusedOperatorTests.ToArray(inputs),
            a => new[] { Plstm2DFused.Forward(FusedOperatorTests.FromArray(a), form: Plstm2DForm.RowScan, recomputeInBackward: true) });
        FormComparison.AssertSame(recomputed, RunFused(inputs, Plstm2DForm.Naive), new[] { "Y" }, FusedNames);
    }

    /// <summary>The kernel form (on the CPU the C# gate walk) with recomputation (<c>RecomputedGatedAttention</c>: the
    /// walk and Q Kᵀ again in backward, nothing cells²-sized kept) against the naive form, output and every gradient:
    /// one cell, a single row, ragged grids, with and without turns.</summary>
    [Theory]
    [InlineData(1, 1, "all")]
    [InlineData(1, 6, "straight")]
    [InlineData(6, 5, "all")]
    [InlineData(4, 7, "DL")]
    [InlineData(7, 3, "DR")]
    public void Fused_kernel_form_recomputed_in_backward_equals_naive(int x, int y, string wiring)
    {
        using var scope = NewDisposeScope();
        var inputs = RandomInputs.Fused(seed: 5750 + x + y, B: 2, X: x, Y: y, DK: 3, DV: 2, JDims.Scalar,
            withDl: wiring is "all" or "DR", withRu: wiring is "all" or "DL");
        var recomputed = Differentiate.Run(FusedOperatorTests.ToArray(inputs),
            a => new[] { Plstm2DFused.Forward(FusedOperatorTests.FromArray(a), form: Plstm2DForm.Kernel, recomputeInBackward: true) });
        FormComparison.AssertSame(recomputed, RunFused(inputs, Plstm2DForm.Naive), new[] { "Y" }, FusedNames);
    }

    /// <summary>The recomputing kernel form leaves no tensor behind over repeated forward and backward passes.</summary>
    [Fact]
    public void Fused_kernel_form_recomputed_leaves_no_tensors_behind()
    {
        var inputs = RandomInputs.Fused(seed: 5790, B: 2, X: 4, Y: 5, DK: 3, DV: 2, JDims.Scalar, withDl: true, withRu: true);
        var leaves = FusedOperatorTests.ToArray(inputs).Select(t => t?.detach().requires_grad_(true)).ToArray();
        long Live() => DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        void Step()
        {
            using var stepScope = NewDisposeScope();
            Plstm2DFused.Forward(FusedOperatorTests.FromArray(leaves), form: Plstm2DForm.Kernel, recomputeInBackward: true)
                .sum().backward();
        }
        Step();                                                                  // allocates the leaves' gradients once
        long before = Live();
        for (int i = 0; i < 4; i++) Step();
        Assert.Equal(before, Live());
    }

    /// <summary>The row loop's own backward (<c>RowScanRecurrence</c>, the default on CUDA) against autograd through the
    /// plain loop (the CPU default, checked against the naive form above): the gate and the gradients of all eight gate
    /// inputs, on single rows and columns, both scan axes and with and without turns, alone and inside the recomputing
    /// checkpoint. Forced on here, on the CPU.</summary>
    [Theory]
    [InlineData(1, 1, true)]
    [InlineData(1, 6, true)]
    [InlineData(6, 1, false)]
    [InlineData(3, 5, true)]
    [InlineData(5, 3, true)]
    [InlineData(7, 7, false)]
    [InlineData(2, 13, true)]
    [InlineData(12, 9, true)]
    public void Row_loop_backward_equals_autograd_through_the_loop(int x, int y, bool turns)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)(5800 + 17 * x + y));
        Tensor Gate() => torch.rand(new long[] { 3, x, y }, float64, generator: generator).mul_(2).sub_(1);
        var gates = new[] { Gate(), Gate(), Gate(), Gate(), turns ? Gate() : null, turns ? Gate() : null, Gate(), Gate() };
        Differentiate.Result Run(bool custom) => Differentiate.Run(gates, a => new[]
        {
            RowScanGate.Compute(a[0]!, a[1]!, a[2]!, a[3]!, a[4], a[5], a[6]!, a[7]!, customBackward: custom),
        });
        FormComparison.AssertSame(Run(true), Run(false), new[] { "gate" }, GateNames);
        // Also inside the recomputing checkpoint, whose backward re-runs the loop (and its own backward) under autograd.
        FormComparison.AssertSame(Differentiate.Run(gates, a => new[]
        {
            RecomputedGates.RowScanGate(a[0]!, a[1]!, a[2]!, a[3]!, a[4], a[5], a[6]!, a[7]!, customBackward: true),
        }), Run(false), new[] { "gate" }, GateNames);
    }

    private static readonly string[] GateNames = ["S0r", "S0d", "T0rl", "T0du", "T0dl", "T0ru", "M0l", "M0u"];

    [Fact]
    public void Fused_rowscan_float32_matches_float64_naive()
    {
        using var scope = NewDisposeScope();
        var inputs64 = RandomInputs.Fused(seed: 5400, B: 2, X: 9, Y: 6, DK: 4, DV: 3, JDims.Scalar);
        var inputs32 = FusedOperatorTests.FromArray(FusedOperatorTests.ToArray(inputs64).Select(t => t?.to(float32)).ToArray());
        FormComparison.AssertSame(RunFused(inputs32, Plstm2DForm.RowScan), RunFused(inputs64, Plstm2DForm.Naive),
            new[] { "Y" }, FusedNames, float32: true);
    }

    [Fact]
    public void Fused_rowscan_with_mixed_J_falls_back_to_an_exact_form()
    {
        using var scope = NewDisposeScope();
        var inputs = RandomInputs.Fused(seed: 5500, B: 1, X: 4, Y: 5, DK: 2, DV: 3, JDims.Mixed);
        FormComparison.AssertSame(RunFused(inputs, Plstm2DForm.RowScan), RunFused(inputs, Plstm2DForm.Naive),
            new[] { "Y" }, FusedNames);
    }
}
