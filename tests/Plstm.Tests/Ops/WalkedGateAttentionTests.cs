using Plstm.Ops.TwoD;
using Plstm.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Tests.Ops;

/// <summary>
/// <see cref="WalkedGateAttention"/>: the gate walk and <c>(Q Kᵀ ⊙ G) V</c> as one function, keeping S and G (or, with
/// recomputation, nothing cells²-sized) for backward. It promises the operations of the composition it replaced — the
/// walk's own function, then autograd through the plain products — so in float32 on the CPU its output and the
/// gradients of Q, K, V, the stacked gates and D0 must equal that composition's to the bit, in both modes. (Against the
/// naive operator: <c>RowScanOperatorTests</c>, and every fused-operator test of the kernel form.)
/// </summary>
public class WalkedGateAttentionTests
{
    private static Tensor[] Inputs(int seed, int n, int x, int y, int dk, int dv, ScalarType dtype)
    {
        var gates = GateWalkCases.Stacked(GateWalkCases.RandomGates(seed, n, 4, x, y, "all", dtype), n, 4, x, y, dtype);
        using var generator = new Generator((ulong)seed + 1);
        long cells = x * y;
        return new[]
        {
            randn(new[] { (long)n, cells, dk }, generator: generator, dtype: dtype),
            randn(new[] { (long)n, cells, dk }, generator: generator, dtype: dtype),
            randn(new[] { (long)n, cells, dv }, generator: generator, dtype: dtype),
            gates.detach(),
            rand(new[] { (long)n, cells }, generator: generator, dtype: dtype),
        };
    }

    private static (Tensor Output, Tensor[] Grads) Run(Tensor[] inputs, Tensor weights, Func<Tensor[], Tensor> f)
    {
        var l = inputs.Select(t => t.detach().clone().requires_grad_(true)).ToArray();
        var y = f(l);
        (y * weights).sum().backward();
        return (y.detach(), l.Select(t => t.grad!).ToArray());
    }

    private static Tensor Composition(Tensor[] l, double scale) =>
        (l[0].matmul(l[1].transpose(1, 2)) * FusedGateCpuKernel.Gate(l[3], l[4], scale)).matmul(l[2]);

    private static readonly string[] Names = { "dQ", "dK", "dV", "dgates", "dD0" };

    /// <summary>One cell, a thin grid, a ragged one, and the ape-small layer's shape (B·H 128, 8 × 8, DK = DV 32). With
    /// DK = 1 libtorch's matmul takes another path for Q Kᵀ's gradient (dQ differs in the last bits; float32 rule).</summary>
    [Theory]
    [InlineData(3, 1, 1, 5, 4, true)]
    [InlineData(2, 3, 7, 4, 3, true)]
    [InlineData(4, 5, 4, 2, 6, true)]
    [InlineData(128, 8, 8, 32, 32, true)]
    [InlineData(4, 5, 4, 1, 6, false)]
    public void Equals_the_walk_then_autograd_to_the_bit_in_float32_storing_and_recomputing(int n, int x, int y, int dk, int dv,
        bool bitwise)
    {
        using var scope = NewDisposeScope();
        const double scale = 0.3;
        var inputs = Inputs(7100 + x * 10 + y, n, x, y, dk, dv, ScalarType.Float32);
        using var generator = new Generator(7199);
        var weights = randn(new long[] { n, x * y, dv }, generator: generator);
        var (expectedY, expectedGrads) = Run(inputs, weights, l => Composition(l, scale));
        foreach (bool recompute in new[] { false, true })
        {
            var (output, grads) = Run(inputs, weights,
                l => WalkedGateAttention.Attend(l[0], l[1], l[2], l[3], l[4], scale, recompute));
            if (!bitwise)
            {
                TensorAssert.AssertCloseFloat32(output, expectedY, "Y");
                for (int i = 0; i < 5; i++) TensorAssert.AssertCloseFloat32(grads[i], expectedGrads[i], Names[i]);
                continue;
            }
            Assert.True(output.allclose(expectedY, rtol: 0, atol: 0), $"output differs (recompute {recompute})");
            for (int i = 0; i < 5; i++)
                Assert.True(grads[i].allclose(expectedGrads[i], rtol: 0, atol: 0), $"{Names[i]} differs (recompute {recompute})");
        }
    }

    [Fact]
    public void Without_autograd_gives_the_same_output()
    {
        using var scope = NewDisposeScope();
        var inputs = Inputs(7300, 2, 4, 6, 3, 2, ScalarType.Float64);
        var expected = Composition(inputs, 0.5);
        using (no_grad())
            TensorAssert.AssertClose(WalkedGateAttention.Attend(inputs[0], inputs[1], inputs[2], inputs[3], inputs[4], 0.5, false),
                expected, "Y", Tolerances.Float64Rtol, Tolerances.Float64Atol);
    }

    /// <summary>Only V and D0 want gradients, the output is used twice: autograd's values through the composition.</summary>
    [Fact]
    public void Partial_gradients_and_a_reused_output_match_the_composition()
    {
        using var scope = NewDisposeScope();
        var inputs = Inputs(7400, 2, 3, 5, 4, 3, ScalarType.Float64);
        (Tensor dV, Tensor dD0) Grads(Func<Tensor, Tensor, Tensor> f)
        {
            var v = inputs[2].clone().requires_grad_(true);
            var d = inputs[4].clone().requires_grad_(true);
            var y = f(v, d);
            (y.sum() + (y * y).sum()).backward();
            return (v.grad!, d.grad!);
        }
        var expected = Grads((v, d) => (inputs[0].matmul(inputs[1].transpose(1, 2)) * FusedGateCpuKernel.Gate(inputs[3], d, 0.7)).matmul(v));
        foreach (bool recompute in new[] { false, true })
        {
            var actual = Grads((v, d) => WalkedGateAttention.Attend(inputs[0], inputs[1], v, inputs[3], d, 0.7, recompute));
            TensorAssert.AssertClose(actual.dV, expected.dV, "dV", Tolerances.Float64Rtol, Tolerances.Float64Atol);
            TensorAssert.AssertClose(actual.dD0, expected.dD0, "dD0", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Repeated_forward_and_backward_leave_no_tensors_behind(bool recompute)
    {
        var leaves = Inputs(7500, 2, 3, 4, 3, 2, ScalarType.Float32).Select(t => t.requires_grad_(true)).ToArray();
        long Live() => DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        void Step()
        {
            using var scope = NewDisposeScope();
            WalkedGateAttention.Attend(leaves[0], leaves[1], leaves[2], leaves[3], leaves[4], 0.5, recompute).sum().backward();
        }
        Step();                                                                  // allocates the leaves' gradients once
        long before = Live();
        for (int i = 0; i < 5; i++) Step();
        Assert.Equal(before, Live());
        foreach (var t in leaves) t.Dispose();
    }

    [Fact]
    public void Refuses_gates_no_walk_takes_naming_them()
    {
        using var scope = NewDisposeScope();
        var q = zeros(2, 4, 3);
        var error = Assert.Throws<ArgumentException>(() =>
            WalkedGateAttention.Attend(q, q, q, zeros(new long[] { 2, 4, 7, 2, 2 }), zeros(2, 4), 1.0, false));
        Assert.Equal("gates", error.ParamName);
    }

    /// <summary>Where the walk cannot fork (the CPU walk; on CUDA also with <c>PLSTM_OVERLAP=off</c>), the backward
    /// beside other work is the plain backward followed by that work, once: the same gradients to the bit, the gate
    /// gradient's diagonal as D0's.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_backward_alongside_other_work_falls_back_to_the_plain_backward_where_it_cannot_fork(bool directGrad)
    {
        using var scope = NewDisposeScope();
        var inputs = Inputs(7301, 3, 4, 5, 2, 2, ScalarType.Float64);
        var gates = inputs[3];
        using var generator = new Generator(7302);
        var dGate = randn(new long[] { 3, 20, 20 }, generator: generator, dtype: ScalarType.Float64);
        var form = WalkedGateAttention.FormOf(gates, GateActivationMode.P);
        Assert.Equal(WalkedGateAttention.GateForm.CpuWalk, form);
        var (plainGates, plainDirect) = GateWalkFunction<FusedGateCpuKernel>.BackwardGate(gates, dGate, 0.7, directGrad);
        int calls = 0;
        var (gatesGrad, directGradient) = WalkedGateAttention.WalkBackward(gates, dGate, 0.7, directGrad, form,
            () => calls++);
        Assert.Equal(1, calls);
        Assert.True(plainGates.eq(gatesGrad).all().item<bool>(), "gates' gradient differs");
        if (directGrad)
        {
            Assert.NotNull(directGradient);
            Assert.True(plainDirect!.eq(directGradient!).all().item<bool>(), "D0's gradient differs");
        }
        else Assert.Null(directGradient);
    }
}
