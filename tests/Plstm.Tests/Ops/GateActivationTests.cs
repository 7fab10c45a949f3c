using Plstm.Ops.TwoD;
using Plstm.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Tests.Ops;

/// <summary>
/// <see cref="GateActivation"/>: the layer's gate activations as one function with a hand-written backward (the CUDA
/// kernel's formulas; on the CPU mirrored as tensor operations) against <see cref="GateActivation.Reference"/>
/// differentiated by autograd: the stacked gates and the gradient of the pre-activations, every mode, awkward sizes, the
/// pre-activations read as a strided view of a wider projection output (as the layer passes them). The CUDA kernel
/// itself is compared with the reference on the GPU by `plstm selfcheck`.
/// </summary>
public sealed class GateActivationTests
{
    /// <summary>A projection output [B, X, Y, extra + K·4H + 3] whose middle columns are the pre-activations (a view with
    /// row stride wider than its columns), values spread enough to saturate some gates.</summary>
    private static Tensor Projection(int seed, long b, long x, long y, int heads, GateActivationMode mode, ScalarType dtype)
    {
        using var generator = new Generator((ulong)seed);
        long columns = GateActivation.Kinds(mode) * 4L * heads;
        return randn(new[] { b, x, y, 5 + columns + 3 }, generator: generator, dtype: dtype) * 2.5;
    }

    private static Tensor Pre(Tensor projection, int heads, GateActivationMode mode) =>
        projection.narrow(3, 5, GateActivation.Kinds(mode) * 4L * heads);

    private static (Tensor Gates, Tensor DProjection) Run(Tensor projection, int heads, GateActivationMode mode,
        double factor, Tensor weights, bool reference)
    {
        var leaf = projection.detach().clone().requires_grad_(true);
        var pre = Pre(leaf, heads, mode);
        var gates = reference ? GateActivation.Reference(pre, heads, mode, factor) : GateActivation.Apply(pre, heads, mode, factor);
        (gates * weights).sum().backward();
        return (gates.detach(), leaf.grad!);
    }

    [Theory]
    [InlineData(GateActivationMode.P, 1, 1, 1, 1)]
    [InlineData(GateActivationMode.P, 2, 3, 5, 3)]
    [InlineData(GateActivationMode.P, 3, 7, 2, 2)]
    [InlineData(GateActivationMode.DLeft, 1, 1, 1, 1)]
    [InlineData(GateActivationMode.DLeft, 2, 4, 3, 3)]
    [InlineData(GateActivationMode.DRight, 2, 1, 9, 2)]
    [InlineData(GateActivationMode.DRight, 3, 5, 4, 1)]
    public void Function_equals_reference_with_autograd_in_float64(GateActivationMode mode, int b, int x, int y, int heads)
    {
        using var scope = NewDisposeScope();
        const double factor = 1.7;
        var projection = Projection(8100 + 31 * x + y, b, x, y, heads, mode, float64);
        using var generator = new Generator(8199);
        var weights = randn(new long[] { b * heads, 4, 8, x, y }, generator: generator, dtype: float64);
        var (expected, expectedGrad) = Run(projection, heads, mode, factor, weights, reference: true);
        var (actual, actualGrad) = Run(projection, heads, mode, factor, weights, reference: false);
        Assert.Equal(new long[] { b * heads, 4, 8, x, y }, actual.shape);
        TensorAssert.AssertClose(actual, expected, "gates", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        TensorAssert.AssertClose(actualGrad, expectedGrad, "d projection", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        // The columns outside the pre-activations get no gradient; those inside do.
        Assert.Equal(0.0, actualGrad.narrow(3, 0, 5).abs().sum().item<double>());
        Assert.True(Pre(actualGrad, heads, mode).abs().min().item<double>() >= 0);
        Assert.True(Pre(actualGrad, heads, mode).abs().max().item<double>() > 1e-3);
    }

    /// <summary>The CUDA kernels' loops (<see cref="GateActivationKernelMirror"/>: the forward per item, the backward by
    /// tiles of cells staged in shared memory) equal the definition and its autograd gradient: the backward's tile the
    /// host picks, and tiles that leave a partial last one, the pre-activations read from a wider projection output as the
    /// layer passes them.</summary>
    [Theory]
    [InlineData(GateActivationMode.P, 2, 14, 14, 3, 0)]
    [InlineData(GateActivationMode.P, 1, 5, 7, 2, 3)]
    [InlineData(GateActivationMode.DLeft, 2, 3, 11, 3, 0)]
    [InlineData(GateActivationMode.DLeft, 1, 1, 1, 1, 0)]
    [InlineData(GateActivationMode.DRight, 3, 4, 9, 1, 5)]
    [InlineData(GateActivationMode.DRight, 1, 6, 6, 11, 0)]
    public void Kernel_loops_equal_the_reference_and_its_gradient(GateActivationMode mode, int b, int x, int y, int heads,
        int tile)
    {
        using var scope = NewDisposeScope();
        const double factor = 1.3;
        var projection = Projection(8300 + 31 * x + y, b, x, y, heads, mode, float64);
        using var generator = new Generator(8399);
        var weights = randn(new long[] { b * heads, 4, 8, x, y }, generator: generator, dtype: float64);
        var (expected, expectedGrad) = Run(projection, heads, mode, factor, weights, reference: true);
        int columns = GateActivation.Kinds(mode) * 4 * heads;
        if (tile == 0) tile = GateActivation.TileCells(columns, sizeof(float));                 // the host's choice
        long stride = projection.shape[3];
        var flat = projection.contiguous().data<double>().ToArray();
        var gates = GateActivationKernelMirror.Forward(flat, stride, 5, b, heads, x * y, mode, factor);
        TensorAssert.AssertClose(tensor(gates, expected.shape, dtype: float64), expected, "gates",
            Tolerances.Float64Rtol, Tolerances.Float64Atol);
        var dProjection = GateActivationKernelMirror.Backward(flat, stride, 5, weights.contiguous().data<double>().ToArray(),
            b, heads, x * y, mode, factor, tile);
        TensorAssert.AssertClose(tensor(dProjection, projection.shape, dtype: float64), expectedGrad,
            $"d projection (tile {tile})", Tolerances.Float64Rtol, Tolerances.Float64Atol);
    }

    /// <summary>The projecting kernel's loops (<see cref="GateActivationKernelMirror.Project"/>: the gate pre-activations
    /// made from x with each gate column's block of D/(4H) channels, then activated) equal the definition — the linear
    /// map of the block-diagonal gate rows, then <see cref="GateActivation.Reference"/> — for the kept pre-activations and
    /// the gates: D-mode (the only mode the layer projects), tiles of 32 and 8 cells with partial last tiles, one or
    /// several heads, one to three channels per gate column, and entries off the blocks that must not be read.</summary>
    [Theory]
    [InlineData(GateActivationMode.DLeft, 2, 14, 14, 3, 2, 32)]
    [InlineData(GateActivationMode.DRight, 1, 5, 7, 2, 3, 8)]
    [InlineData(GateActivationMode.DLeft, 3, 1, 1, 1, 1, 32)]
    [InlineData(GateActivationMode.DRight, 2, 6, 11, 1, 2, 5)]
    public void Projecting_kernel_loops_equal_the_linear_map_then_the_reference(GateActivationMode mode, int b, int x, int y,
        int heads, int sub, int tile)
    {
        using var scope = NewDisposeScope();
        const double factor = 1.3;
        int G = 4 * heads, d = G * sub, kg = GateActivation.Kinds(mode) * G;
        using var generator = new Generator(8500 + (ulong)(31 * x + y));
        var input = randn(new long[] { b, x, y, d }, generator: generator, dtype: float64);
        var blocks = randn(new long[] { kg, d }, generator: generator, dtype: float64);
        var bias = randn(new long[] { kg }, generator: generator, dtype: float64);
        // Column col reads channels (col mod 4H)·sub …: the block-diagonal weight, and one with garbage off the blocks.
        var mask = zeros(kg, d, dtype: float64);
        for (int col = 0; col < kg; col++) mask[col, TensorIndex.Slice(col % G * sub, (col % G + 1) * sub)] = ones(sub, dtype: float64);
        var weight = blocks * mask;
        var garbage = weight + (1.0 - mask) * 1e3;
        var pre = nn.functional.linear(input, weight, bias);                                 // [B, X, Y, K·4H]
        var expected = GateActivation.Reference(pre, heads, mode, factor);                 // [B·H, 4, 8, X, Y]

        var (gates, keep) = GateActivationKernelMirror.Project(input.contiguous().data<double>().ToArray(), d,
            garbage.contiguous().data<double>().ToArray(), bias.data<double>().ToArray(), b, heads, x * y, mode, factor, tile);

        TensorAssert.AssertClose(tensor(keep, pre.shape, dtype: float64), pre, "kept pre-activations",
            Tolerances.Float64Rtol, Tolerances.Float64Atol);
        TensorAssert.AssertClose(tensor(gates, expected.shape, dtype: float64), expected, "gates",
            Tolerances.Float64Rtol, Tolerances.Float64Atol);
    }

    /// <summary>The host's tile: 32 cells while their staged rows fit 48 KiB, fewer for very wide rows, and a clear error
    /// when not even one row fits.</summary>
    [Fact]
    public void Tile_fits_the_shared_memory()
    {
        Assert.Equal(32, GateActivation.TileCells(84, 4));
        Assert.Equal(32, GateActivation.TileCells(48, 8));
        Assert.Equal(48 * 1024 / (1000 * 8), GateActivation.TileCells(999, 8));
        Assert.Equal(1, GateActivation.TileCells(48 * 1024 / 4 - 1, 4));
        Assert.Contains("shared memory", Assert.Throws<ArgumentException>(() => GateActivation.TileCells(48 * 1024 / 4, 4)).Message);
    }

    [Theory]
    [InlineData(GateActivationMode.P)]
    [InlineData(GateActivationMode.DLeft)]
    [InlineData(GateActivationMode.DRight)]
    public void Function_equals_reference_with_autograd_in_float32(GateActivationMode mode)
    {
        using var scope = NewDisposeScope();
        const double factor = 1.0;
        var projection = Projection(8300, 4, 6, 5, 3, mode, float32);
        using var generator = new Generator(8301);
        var weights = randn(new long[] { 12, 4, 8, 6, 5 }, generator: generator, dtype: float32);
        var (expected, expectedGrad) = Run(projection, 3, mode, factor, weights, reference: true);
        var (actual, actualGrad) = Run(projection, 3, mode, factor, weights, reference: false);
        TensorAssert.AssertCloseFloat32(actual, expected, "gates");
        TensorAssert.AssertCloseFloat32(actualGrad, expectedGrad, "d projection");
    }

    [Fact]
    public void P_mode_gates_follow_the_layer_formulas_by_hand()
    {
        using var scope = NewDisposeScope();
        // One batch entry, one cell, one head: columns k·4 + o for kinds ω, S, M, T.
        var pre = zeros(1, 1, 1, 16, dtype: float64);
        double[] raw = { 0.3, -1.2, 2.0, 0.7 };
        for (int k = 0; k < 4; k++) pre[0, 0, 0, k * 4 + 2] = tensor(raw[k], float64);   // orientation 2
        var gates = GateActivation.Apply(pre, 1, GateActivationMode.P, 2.0);               // [1, 4, 8, 1, 1]
        static double Sigma(double v) => 1 / (1 + Math.Exp(-v));
        double w = Sigma(0.3), s = Sigma(-1.2), m = Sigma(2.0), t = Math.Tanh(2.0 * 0.7);
        double[] expected = { w * s, 1 - w * s, w * t, 1 - w * t, 1 - w * t, w * t, m, m };
        for (int p = 0; p < 8; p++)
            Assert.Equal(expected[p], gates[0, 2, p, 0, 0].item<double>(), 12);
        // Orientation 0 has zero pre-activations: ω = S = M = ½, T = 0.
        Assert.Equal(0.25, gates[0, 0, 0, 0, 0].item<double>(), 12);
        Assert.Equal(0.0, gates[0, 0, 2, 0, 0].item<double>(), 12);
    }

    [Theory]
    [InlineData(GateActivationMode.DLeft, 4, 5)]
    [InlineData(GateActivationMode.DRight, 5, 4)]
    public void D_mode_has_exactly_one_turn(GateActivationMode mode, int absent, int present)
    {
        using var scope = NewDisposeScope();
        var projection = Projection(8400, 2, 3, 3, 2, mode, float64);
        var gates = GateActivation.Apply(Pre(projection, 2, mode), 2, mode, 1.0);
        Assert.Equal(0.0, gates.select(2, absent).abs().max().item<double>());
        Assert.True(gates.select(2, present).abs().min().item<double>() > 0);
    }

    [Fact]
    public void Without_gradient_the_function_gives_the_reference()
    {
        using var scope = NewDisposeScope();
        var projection = Projection(8500, 2, 4, 4, 3, GateActivationMode.P, float64);
        using var noGrad = no_grad();
        var pre = Pre(projection, 3, GateActivationMode.P);
        TensorAssert.AssertClose(GateActivation.Apply(pre, 3, GateActivationMode.P, 1.0),
            GateActivation.Reference(pre, 3, GateActivationMode.P, 1.0), "gates", 0, 0);
    }

    [Fact]
    public void Bad_arguments_name_the_argument()
    {
        using var scope = NewDisposeScope();
        var wrongColumns = zeros(2, 3, 3, 15, dtype: float64);
        Assert.Equal("pre", Assert.Throws<ArgumentException>(() => GateActivation.Apply(wrongColumns, 1, GateActivationMode.P, 1.0)).ParamName);
        Assert.Equal("pre", Assert.Throws<ArgumentException>(() => GateActivation.Apply(zeros(3, 3, 16), 1, GateActivationMode.P, 1.0)).ParamName);
        Assert.Equal("pre", Assert.Throws<ArgumentException>(() =>
            GateActivation.Apply(zeros(new long[] { 1, 1, 1, 16 }, dtype: int64), 1, GateActivationMode.P, 1.0)).ParamName);
        Assert.Equal("heads", Assert.Throws<ArgumentOutOfRangeException>(() =>
            GateActivation.Apply(zeros(1, 1, 1, 16), 0, GateActivationMode.P, 1.0)).ParamName);
        Assert.Equal("mode", Assert.Throws<ArgumentOutOfRangeException>(() =>
            GateActivation.Apply(zeros(1, 1, 1, 16), 1, (GateActivationMode)7, 1.0)).ParamName);
    }

    /// <summary>The walked attention that activates the gates inside its own function equals the two functions one
    /// after the other: output and the gradients of q, k, v, the projection (through the pre-activations) and D0,
    /// float64, storing and recomputing, every mode.</summary>
    [Theory]
    [InlineData(GateActivationMode.P, 1, 2, false)]
    [InlineData(GateActivationMode.P, 3, 5, true)]
    [InlineData(GateActivationMode.DLeft, 4, 3, false)]
    [InlineData(GateActivationMode.DRight, 2, 7, true)]
    public void Walked_attention_with_activation_inside_equals_the_composition(GateActivationMode mode, int x, int y,
        bool recompute)
    {
        using var scope = NewDisposeScope();
        const int b = 2, heads = 2, dk = 3, dv = 4;
        const double factor = 1.2, scale = 0.4;
        long n = b * heads, cells = x * y;
        var projection = Projection(8600 + x * 10 + y, b, x, y, heads, mode, float64) * 0.4;
        using var generator = new Generator(8601);
        var q = randn(new long[] { n, cells, dk }, generator: generator, dtype: float64);
        var k = randn(new long[] { n, cells, dk }, generator: generator, dtype: float64);
        var v = randn(new long[] { n, cells, dv }, generator: generator, dtype: float64);
        var direct = rand(new long[] { n, cells }, generator: generator, dtype: float64);
        var weights = randn(new long[] { n, cells, dv }, generator: generator, dtype: float64);

        (Tensor Y, Tensor[] Grads) Run(bool inside)
        {
            var leaves = new[] { q, k, v, projection, direct }.Select(t => t.detach().clone().requires_grad_(true)).ToArray();
            var pre = Pre(leaves[3], heads, mode);
            var output = inside
                ? WalkedGateAttention.AttendActivated(leaves[0], leaves[1], leaves[2], pre, heads, mode, factor, leaves[4],
                    scale, recompute)
                : WalkedGateAttention.Attend(leaves[0], leaves[1], leaves[2], GateActivation.Apply(pre, heads, mode, factor),
                    leaves[4], scale, recompute);
            (output * weights).sum().backward();
            return (output.detach(), leaves.Select(l => l.grad!).ToArray());
        }
        var (expected, expectedGrads) = Run(inside: false);
        var (actual, actualGrads) = Run(inside: true);
        TensorAssert.AssertClose(actual, expected, "y", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        string[] names = { "dq", "dk", "dv", "dprojection", "ddirect" };
        for (int i = 0; i < names.Length; i++)
            TensorAssert.AssertClose(actualGrads[i], expectedGrads[i], names[i], Tolerances.Float64Rtol, Tolerances.Float64Atol);
        Assert.True(Pre(actualGrads[3], heads, mode).abs().max().item<double>() > 1e-6);
    }
}
