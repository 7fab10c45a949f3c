using Plstm.Ops.Common;
using Plstm.Ops.TwoD;
using Plstm.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Tests.Ops;

/// <summary>
/// <see cref="ProjectedGateAttention"/>: the 2D layer's kernel form from its projection output <c>[B, X, Y, 3·H·W +
/// K·4H]</c>. On the CPU it is the composition (heads folded into the batch, the activated walk, heads moved back, the
/// per-head norm): checked here against that composition written independently — each head's q, k, v cut out of the
/// projection column by column and stacked — for the output and the gradients of the projection and D0, in float64,
/// every mode, storing and recomputing, with and without the norm. On CUDA the in-place kernels are checked by
/// <c>plstm selfcheck</c> (layer cases) and their layouts by the kernel mirror (<c>MaskedAttentionKernelTests</c>).
/// </summary>
public class ProjectedGateAttentionTests
{
    private const double Factor = 1.3, Scale = 0.35, Eps = 1e-5;

    /// <summary>The reference: heads cut out one by one, [B·H, T, W] in batch-major, head-minor order.</summary>
    private static Tensor Expected(Tensor proj, Tensor direct, int heads, int width, GateActivationMode mode, bool recompute,
        bool norm)
    {
        var shape = proj.shape;
        long b = shape[0], x = shape[1], y = shape[2], t = x * y;
        Tensor Block(int index) => stack(Enumerable.Range(0, heads)
            .Select(h => proj.narrow(3, (index * heads + h) * width, width)).ToArray(), 1)   // [B, H, X, Y, W]
            .reshape(b * heads, t, width);
        var pre = proj.narrow(3, 3 * heads * width, shape[3] - 3 * heads * width);
        var output = WalkedGateAttention.AttendActivated(Block(0), Block(1), Block(2), pre, heads, mode, Factor, direct, Scale,
            recompute);                                                                      // [B·H, T, W]
        var perHead = output.reshape(b, heads, x, y, width).permute(0, 2, 3, 1, 4);         // [B, X, Y, H, W]
        return norm ? RmsNormalization.Apply(perHead, width, Eps) : perHead;
    }

    [Theory]
    [InlineData(GateActivationMode.P, 1, 1, 1, false, true)]
    [InlineData(GateActivationMode.P, 3, 5, 2, true, false)]
    [InlineData(GateActivationMode.DLeft, 4, 3, 3, false, true)]
    [InlineData(GateActivationMode.DRight, 2, 7, 2, true, true)]
    public void Equals_the_composition_with_heads_cut_out_one_by_one(GateActivationMode mode, int x, int y, int heads,
        bool recompute, bool norm)
    {
        using var scope = NewDisposeScope();
        const int b = 2, width = 4;
        long columns = 3L * heads * width + GateActivation.Kinds(mode) * 4L * heads;
        using var generator = new Generator(9300 + (ulong)(x * 10 + y));
        var proj = randn(new long[] { b, x, y, columns }, generator: generator, dtype: float64);
        var direct = rand(new long[] { b * heads, x * y }, generator: generator, dtype: float64);
        var weights = randn(new long[] { b, x, y, heads, width }, generator: generator, dtype: float64);

        (Tensor Y, Tensor DProj, Tensor DDirect) Run(bool projected)
        {
            var p = proj.detach().clone().requires_grad_(true);
            var d = direct.detach().clone().requires_grad_(true);
            var output = projected
                ? ProjectedGateAttention.Attend(p, heads, width, mode, Factor, d, Scale, recompute, norm ? Eps : null)
                : Expected(p, d, heads, width, mode, recompute, norm);
            (output * weights).sum().backward();
            return (output.detach(), p.grad!, d.grad!);
        }
        var (expected, expectedProj, expectedDirect) = Run(projected: false);
        var (actual, actualProj, actualDirect) = Run(projected: true);
        TensorAssert.AssertClose(actual, expected, "y", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        TensorAssert.AssertClose(actualProj, expectedProj, "dproj", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        TensorAssert.AssertClose(actualDirect, expectedDirect, "ddirect", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        // Every q, k, v column receives a gradient, and (beyond one cell, where no path exists) the gate pre-activations.
        long qkv = 3L * heads * width;
        Assert.True(actualProj.narrow(3, 0, qkv).abs().amax(new long[] { 0, 1, 2 }).min().item<double>() > 0);
        if (x * y > 1) Assert.True(actualProj.narrow(3, qkv, columns - qkv).abs().max().item<double>() > 0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Repeated_forward_and_backward_leave_no_tensors_behind(bool recompute)
    {
        const int heads = 2, width = 4;
        long columns = 3L * heads * width + GateActivation.Kinds(GateActivationMode.P) * 4L * heads;
        using var generator = new Generator(9400);
        var proj = randn(new long[] { 2, 3, 4, columns }, generator: generator).requires_grad_(true);
        var direct = rand(new long[] { 2 * heads, 12 }, generator: generator).requires_grad_(true);
        long Live() => DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        void Step()
        {
            using var scope = NewDisposeScope();
            ProjectedGateAttention.Attend(proj, heads, width, GateActivationMode.P, Factor, direct, Scale, recompute, Eps)
                .sum().backward();
        }
        Step();                                                                  // allocates the leaves' gradients once
        long before = Live();
        for (int i = 0; i < 5; i++) Step();
        Assert.Equal(before, Live());
        proj.Dispose();
        direct.Dispose();
    }

    /// <summary><see cref="ProjectedGateAttention.AttendProjected"/> equals <see cref="ProjectedGateAttention.Attend"/> of
    /// <c>x Wᵀ + b</c> written out, with the gradients of x, the weight, the bias and D0 (on the CPU it is that
    /// composition; on CUDA in float32 its projecting function is checked by <c>plstm selfcheck</c>'s layer cases).</summary>
    [Theory]
    [InlineData(GateActivationMode.P, 2, 3)]
    [InlineData(GateActivationMode.DRight, 3, 1)]
    public void Projected_equals_attend_of_the_linear_map(GateActivationMode mode, int x, int y)
    {
        using var scope = NewDisposeScope();
        const int b = 2, heads = 2, width = 4, inputs = 8;
        long columns = 3L * heads * width + GateActivation.Kinds(mode) * 4L * heads;
        using var generator = new Generator(9500 + (ulong)(x * 10 + y));
        var source = randn(new long[] { b, x, y, inputs }, generator: generator, dtype: float64);
        var weight = randn(new long[] { columns, inputs }, generator: generator, dtype: float64) * 0.4;
        var bias = randn(new long[] { columns }, generator: generator, dtype: float64) * 0.2;
        var direct = rand(new long[] { b * heads, x * y }, generator: generator, dtype: float64);
        var weights = randn(new long[] { b, x, y, heads, width }, generator: generator, dtype: float64);

        List<Tensor> Run(bool projected)
        {
            var leaves = new[] { source, weight, bias, direct }.Select(t => t.detach().clone().requires_grad_(true)).ToArray();
            var output = projected
                ? ProjectedGateAttention.AttendProjected(leaves[0], leaves[1], leaves[2], heads, width, mode, Factor, leaves[3],
                    Scale, false, Eps)
                : ProjectedGateAttention.Attend(leaves[0].matmul(leaves[1].t()) + leaves[2], heads, width, mode, Factor,
                    leaves[3], Scale, false, Eps);
            (output * weights).sum().backward();
            return [output.detach(), .. leaves.Select(t => t.grad!)];
        }
        var expected = Run(projected: false);
        var actual = Run(projected: true);
        string[] names = ["y", "dx", "dweight", "dbias", "ddirect"];
        for (int i = 0; i < names.Length; i++)
            TensorAssert.AssertClose(actual[i], expected[i], names[i], Tolerances.Float64Rtol, Tolerances.Float64Atol);
    }

    /// <summary>D0 given per head <c>[H]</c> equals the same D0 spread over batch entries and cells <c>[B·H, X·Y]</c>,
    /// output and gradients, its own the sum of the spread one's (on CUDA in float32 the function sums it itself, checked
    /// by <c>plstm selfcheck</c>'s layer cases through the layer's direct.bias gradient).</summary>
    [Theory]
    [InlineData(GateActivationMode.P, 2, 3, false)]
    [InlineData(GateActivationMode.DLeft, 3, 3, true)]
    public void Direct_per_head_equals_it_spread_over_the_cells(GateActivationMode mode, int x, int y, bool projecting)
    {
        using var scope = NewDisposeScope();
        const int b = 3, heads = 2, width = 4, inputs = 8;
        long columns = 3L * heads * width + GateActivation.Kinds(mode) * 4L * heads;
        using var generator = new Generator(9600 + (ulong)(x * 10 + y));
        var source = randn(new long[] { b, x, y, inputs }, generator: generator, dtype: float64);
        var weight = randn(new long[] { columns, inputs }, generator: generator, dtype: float64) * 0.4;
        var bias = randn(new long[] { columns }, generator: generator, dtype: float64) * 0.2;
        var perHead = rand(new long[] { heads }, generator: generator, dtype: float64);
        var weights = randn(new long[] { b, x, y, heads, width }, generator: generator, dtype: float64);

        (Tensor Y, Tensor DHead) Run(bool spread)
        {
            var d = perHead.detach().clone().requires_grad_(true);
            var direct = spread ? d.reshape(1, heads, 1).expand(b, heads, x * y).reshape(b * heads, x * y) : d;
            var output = projecting
                ? ProjectedGateAttention.AttendProjected(source, weight, bias, heads, width, mode, Factor, direct, Scale, false,
                    Eps)
                : ProjectedGateAttention.Attend(source.matmul(weight.t()) + bias, heads, width, mode, Factor, direct, Scale,
                    false, Eps);
            (output * weights).sum().backward();
            return (output.detach(), d.grad!);
        }
        var (expected, expectedGrad) = Run(spread: true);
        var (actual, actualGrad) = Run(spread: false);
        TensorAssert.AssertClose(actual, expected, "y", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        TensorAssert.AssertClose(actualGrad, expectedGrad, "ddirect", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        Assert.True(actualGrad.abs().min().item<double>() > 0);
    }

    [Fact]
    public void Refuses_a_direct_gate_of_another_head_count_naming_it()
    {
        using var scope = NewDisposeScope();
        var proj = zeros(new long[] { 1, 2, 2, 56 }, dtype: float64);
        var error = Assert.Throws<ArgumentException>(() => ProjectedGateAttention.Attend(proj, 2, 4, GateActivationMode.P,
            Factor, zeros(new long[] { 3 }, dtype: float64), Scale, false));
        Assert.Equal("direct", error.ParamName);
        Assert.Contains("[2]", error.Message);
    }

    [Fact]
    public void Projected_refuses_a_weight_that_does_not_fit_naming_it()
    {
        using var scope = NewDisposeScope();
        var x = zeros(new long[] { 1, 2, 2, 8 }, dtype: float64);
        var direct = zeros(new long[] { 2, 4 }, dtype: float64);
        var error = Assert.Throws<ArgumentException>(() => ProjectedGateAttention.AttendProjected(x,
            zeros(new long[] { 56, 7 }, dtype: float64), zeros(new long[] { 56 }, dtype: float64), 2, 4, GateActivationMode.P,
            Factor, direct, Scale, false));
        Assert.Equal("weight", error.ParamName);
        Assert.Contains("[56, 7]", error.Message);
    }

    [Fact]
    public void Refuses_a_projection_of_another_width_or_one_no_walk_takes_naming_it()
    {
        using var scope = NewDisposeScope();
        var proj = zeros(new long[] { 1, 2, 2, 3 * 2 * 4 + 4 * 4 * 2 - 1 }, dtype: float64);   // one column short of 56
        var direct = zeros(new long[] { 2, 4 }, dtype: float64);
        var error = Assert.Throws<ArgumentException>(() =>
            ProjectedGateAttention.Attend(proj, 2, 4, GateActivationMode.P, Factor, direct, Scale, false));
        Assert.Equal("proj", error.ParamName);
        Assert.Contains("56", error.Message);
        // A dtype no walk takes.
        var half = zeros(new long[] { 1, 2, 2, 56 }, dtype: float16);
        Assert.Equal("proj", Assert.Throws<ArgumentException>(() =>
            ProjectedGateAttention.Attend(half, 2, 4, GateActivationMode.P, Factor, direct, Scale, false)).ParamName);
    }
}
