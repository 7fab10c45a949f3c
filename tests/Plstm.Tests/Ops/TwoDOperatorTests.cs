using Plstm.Ops.OneD;
using Plstm.Ops.TwoD;
using Plstm.Tests.Support;

namespace Plstm.Tests.Ops;

public class TwoDOperatorTests
{
    internal static readonly string[] InputNames =
        { "Q", "K", "V", "S0r", "S0d", "T0rl", "T0du", "T0dl", "T0ru", "M0l", "M0u", "D0", "InitialLeft", "InitialTop" };
    private static readonly string[] OutputNames = { "Y", "FinalRight", "FinalBottom" };

    internal static Tensor?[] ToArray(Plstm2DInputs i) =>
        new[] { i.Q, i.K, i.V, i.S0r, i.S0d, i.T0rl, i.T0du, i.T0dl, i.T0ru, i.M0l, i.M0u, i.D0, i.InitialLeft, i.InitialTop };

    internal static Plstm2DInputs FromArray(Tensor?[] a) =>
        new(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7], a[8], a[9]!, a[10]!, a[11]!, a[12], a[13]);

    private static Differentiate.Result Run(Plstm2DInputs inputs, Func<Plstm2DInputs, Plstm2DOutput> form) =>
        Differentiate.Run(ToArray(inputs), a =>
        {
            var o = form(FromArray(a));
            return new[] { o.Y, o.FinalRight, o.FinalBottom };
        });

    /// <summary>Grid shapes of the issue (1×1, 1×N, N×1, 3×5, 7×9, 17×4) and more, with every level count 0..4 and
    /// varying transition wiring (all four, D-mode L, D-mode R, straight only) and J sizes.</summary>
    public static TheoryData<int, int, int, string> Cases()
    {
        var data = new TheoryData<int, int, int, string>();
        var shapes = new (int X, int Y)[] { (1, 1), (1, 6), (5, 1), (3, 5), (7, 9), (17, 4), (4, 4), (2, 8) };
        var wirings = new[] { "all", "DL", "DR", "straight" };
        int k = 0;
        foreach (var (x, y) in shapes)
            for (int levels = 0; levels <= 4; levels++)
                data.Add(x, y, levels, wirings[k++ % wirings.Length]);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Hierarchical_equals_naive_outputs_final_states_and_gradients(int x, int y, int levels, string wiring)
    {
        using var scope = NewDisposeScope();
        var j = (x * y) % 2 == 0 ? JDims.Mixed : JDims.Scalar;
        var inputs = RandomInputs.TwoD(seed: 100 * x + y, B: 2, X: x, Y: y, DK: 3, DV: 2, j,
            withDl: wiring is "all" or "DR", withRu: wiring is "all" or "DL", withInitial: levels % 2 == 0);
        FormComparison.AssertSame(Run(inputs, i => Plstm2DHierarchical.Forward(i, levels)),
            Run(inputs, i => Plstm2DNaive.Forward(i)), OutputNames, InputNames);
    }

    /// <summary>The output-only entry point skips border work nobody reads; it must still equal the naive output,
    /// with and without initial states, for one chunk, one chunk row/column and several chunks.</summary>
    [Theory]
    [InlineData(4, 4, 2, false, "scalar")]
    [InlineData(4, 4, 2, true, "mixed")]
    [InlineData(8, 4, 2, false, "scalar")]
    [InlineData(4, 8, 2, true, "scalar")]
    [InlineData(7, 9, 2, false, "mixed")]
    [InlineData(6, 5, 1, true, "scalar")]
    public void Output_only_equals_naive_output_and_gradients(int x, int y, int levels, bool withInitial, string j)
    {
        using var scope = NewDisposeScope();
        var inputs = RandomInputs.TwoD(seed: 300 + x * y, B: 2, X: x, Y: y, DK: 3, DV: 2,
            j == "mixed" ? JDims.Mixed : JDims.Scalar, withInitial: withInitial);
        Differentiate.Result RunY(Func<Plstm2DInputs, Tensor> form) =>
            Differentiate.Run(ToArray(inputs), a => new[] { form(FromArray(a)) });
        FormComparison.AssertSame(RunY(i => Plstm2DHierarchical.Output(i, levels)), RunY(i => Plstm2DNaive.Forward(i).Y),
            new[] { "Y" }, InputNames);
    }

    [Theory]
    [InlineData(8, 8, 2)]
    [InlineData(12, 5, 3)]
    public void Hierarchical_float32_matches_float64_naive(int x, int y, int levels)
    {
        using var scope = NewDisposeScope();
        var inputs64 = RandomInputs.TwoD(seed: 8, B: 2, X: x, Y: y, DK: 4, DV: 3, JDims.Mixed, withInitial: true);
        var inputs32 = FromArray(ToArray(inputs64).Select(t => t?.to(float32)).ToArray());
        FormComparison.AssertSame(Run(inputs32, i => Plstm2DHierarchical.Forward(i, levels)),
            Run(inputs64, i => Plstm2DNaive.Forward(i)), OutputNames, InputNames, float32: true);
    }

    [Fact]
    public void Result_does_not_depend_on_levels()
    {
        using var scope = NewDisposeScope();
        var inputs = RandomInputs.TwoD(seed: 4, B: 1, X: 12, Y: 10, DK: 2, DV: 2, JDims.Scalar, withInitial: true);
        var reference = Plstm2DHierarchical.Forward(inputs, 0);
        for (int levels = 1; levels <= 5; levels++)
        {
            var other = Plstm2DHierarchical.Forward(inputs, levels);
            TensorAssert.AssertClose(other.Y, reference.Y, $"Y at levels {levels}", Tolerances.Float64Rtol, Tolerances.Float64Atol);
            TensorAssert.AssertClose(other.FinalRight, reference.FinalRight, $"FinalRight at levels {levels}", Tolerances.Float64Rtol, Tolerances.Float64Atol);
            TensorAssert.AssertClose(other.FinalBottom, reference.FinalBottom, $"FinalBottom at levels {levels}", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        }
    }

    [Fact]
    public void Output_is_causal_in_x_and_y()
    {
        using var scope = NewDisposeScope();
        var inputs = RandomInputs.TwoD(seed: 6, B: 1, X: 6, Y: 7, DK: 2, DV: 2, JDims.Scalar);
        const int x0 = 2, y0 = 3;
        Tensor Bump(Tensor t) => t.clone().index_put_(tensor(2.5, dtype: float64),
            TensorIndex.Colon, TensorIndex.Single(x0), TensorIndex.Single(y0));
        var perturbed = inputs with { K = Bump(inputs.K), V = Bump(inputs.V), T0rl = Bump(inputs.T0rl), T0ru = Bump(inputs.T0ru!) };
        var diff = (Plstm2DHierarchical.Forward(perturbed, 1).Y - Plstm2DHierarchical.Forward(inputs, 1).Y)
            .abs().amax(new long[] { 0, 3, 4 });                                                     // [X, Y]
        for (int x = 0; x < 6; x++)
            for (int y = 0; y < 7; y++)
            {
                double d = diff[x, y].item<double>();
                if (x < x0 || y < y0) Assert.True(d <= 1e-12, $"cell ({x},{y}) cannot be reached from ({x0},{y0}) but moved by {d}");
                else Assert.True(d > 1e-9, $"cell ({x},{y}) is reachable from ({x0},{y0}) but did not move");
            }
    }

    [Fact]
    public void Grid_with_only_rl_transitions_equals_1D_along_x()
    {
        // No d-edge state is ever read (T0du = 0, no turns, M0u = 0): every line of fixed y is a 1D chain along x.
        using var scope = NewDisposeScope();
        long B = 2, X = 9, Y = 3, DK = 3, DV = 2;
        var j = JDims.Mixed;
        var r = RandomInputs.TwoD(seed: 12, B, X, Y, DK, DV, j, withDl: false, withRu: false, withInitial: true);
        var grid = r with { T0du = zeros_like(r.T0du), M0u = zeros_like(r.M0u) };
        var out2d = Plstm2DHierarchical.Forward(grid, 2);

        Tensor Lines(Tensor t) => t.transpose(1, 2).reshape(new[] { B * Y, X }.Concat(t.shape.Skip(3)).ToArray());
        var oneD = new Plstm1DInputs(Lines(grid.Q), Lines(grid.K), Lines(grid.V), Lines(grid.S0r), Lines(grid.T0rl),
            Lines(grid.M0l), Lines(grid.D0), grid.InitialLeft!.reshape(B * Y, DK, DV, j.JT));
        var out1d = Plstm1DNaive.Forward(oneD);
        var y1d = out1d.Y.reshape(B, Y, X, DV, j.JO).transpose(1, 2);
        TensorAssert.AssertClose(out2d.Y, y1d, "Y", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        TensorAssert.AssertClose(out2d.FinalRight, out1d.CLast.reshape(B, Y, DK, DV, j.JT), "FinalRight",
            Tolerances.Float64Rtol, Tolerances.Float64Atol);
    }

    [Fact]
    public void Swapping_x_and_y_with_r_and_d_transposes_the_output()
    {
        using var scope = NewDisposeScope();
        var i = RandomInputs.TwoD(seed: 21, B: 1, X: 5, Y: 9, DK: 2, DV: 3, JDims.Mixed, withInitial: true);
        Tensor Tr(Tensor t) => t.transpose(1, 2);
        var swapped = new Plstm2DInputs(Tr(i.Q), Tr(i.K), Tr(i.V), Tr(i.S0d), Tr(i.S0r), Tr(i.T0du), Tr(i.T0rl),
            Tr(i.T0ru!), Tr(i.T0dl!), Tr(i.M0u), Tr(i.M0l), Tr(i.D0), i.InitialTop, i.InitialLeft);
        var a = Plstm2DHierarchical.Forward(i, 2);
        var b = Plstm2DHierarchical.Forward(swapped, 2);
        TensorAssert.AssertClose(Tr(b.Y), a.Y, "Y", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        TensorAssert.AssertClose(b.FinalBottom, a.FinalRight, "FinalRight", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        TensorAssert.AssertClose(b.FinalRight, a.FinalBottom, "FinalBottom", Tolerances.Float64Rtol, Tolerances.Float64Atol);
    }

    /// <summary>P-mode wiring of the 2D layer (operators §4.1) from o, s, t ∈ (0, 1): column sums of |T| are exactly 1.</summary>
    private static Plstm2DInputs PMode(long seed, long n)
    {
        var g = new Generator((ulong)seed);
        Tensor U(params long[] s) => rand(s, dtype: float64, generator: g);
        var o = U(1, n, n, 1, 1);
        var s = U(1, n, n, 1, 1);
        var t = U(1, n, n, 1, 1);
        var m = U(1, n, n, 1, 1, 1);
        var os = (o * s).unsqueeze(-1);
        var ot = o * t;
        return new Plstm2DInputs(randn(new long[] { 1, n, n, 2, 1 }, dtype: float64, generator: g), randn(new long[] { 1, n, n, 2, 1 }, dtype: float64, generator: g),
            randn(new long[] { 1, n, n, 2, 1 }, dtype: float64, generator: g), os, 1 - os, ot, 1 - ot, 1 - ot, ot, m, m,
            U(1, n, n, 1, 1, 1, 1));
    }

    [Fact]
    public void P_mode_stays_bounded_on_64x64_and_violating_it_explodes()
    {
        using var scope = NewDisposeScope();
        var pmode = PMode(seed: 31, n: 64);
        double bounded = Plstm2DHierarchical.Forward(pmode, 4).Y.abs().max().item<double>();
        Assert.True(bounded < 50, $"P-mode max|Y| on 64×64 should stay O(1)-O(10), got {bounded}");

        // Column sum 2 (all four transitions 1, operators §6): path counts 2^(Δx+Δy) → max|Y| astronomically large.
        var ones5 = ones_like(pmode.T0rl);
        var violated = pmode with { T0rl = ones5, T0du = ones5, T0dl = ones5, T0ru = ones5 };
        double exploded = Plstm2DHierarchical.Forward(violated, 4).Y.abs().max().item<double>();
        Assert.True(exploded > 1e25, $"transitions with column sum 2 must explode on 64×64, got {exploded}");
    }

    [Fact]
    public void Spec_numbers_for_all_transitions_one_and_one_half()
    {
        // operators §6: all four transitions = 1 gives max|Y| ≈ 4.4e2 on 8×8 and 4.5e7 on 16×16; all = 0.5 stays ≈ 3–7.
        using var scope = NewDisposeScope();
        double MaxAbs(long n, double t)
        {
            var g = new Generator(5);
            Tensor R(params long[] s) => randn(s, dtype: float64, generator: g);
            var tt = full(new long[] { 1, n, n, 1, 1 }, t, dtype: float64);
            var one6 = ones(new long[] { 1, n, n, 1, 1, 1 }, dtype: float64);
            var inputs = new Plstm2DInputs(R(1, n, n, 2, 1), R(1, n, n, 2, 1), R(1, n, n, 2, 1), one6, one6, tt, tt, tt, tt,
                one6, one6, zeros(new long[] { 1, n, n, 1, 1, 1, 1 }, dtype: float64));
            return Plstm2DHierarchical.Forward(inputs, 3).Y.abs().max().item<double>();
        }
        double half16 = MaxAbs(16, 0.5), one8 = MaxAbs(8, 1.0), one16 = MaxAbs(16, 1.0);
        Assert.True(half16 < 30, $"column sum 1 stays small: {half16}");
        Assert.True(one16 / one8 > 1e3, $"column sum 2 grows geometrically: 8×8 {one8}, 16×16 {one16}");
    }
}
