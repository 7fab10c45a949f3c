using Plstm.Ops.TwoD;
using Plstm.Tests.Support;

namespace Plstm.Tests.Ops;

/// <summary>
/// <see cref="Plstm2DChunkwise"/> against the oracle <see cref="Plstm2DNaive"/>: outputs, final border states and the
/// gradients of every input, on awkward grid shapes, several chunk sides, every transition wiring and gates shaped like
/// the layers' P-mode and D-mode gates.
/// </summary>
public class ChunkwiseOperatorTests
{
    private static readonly string[] InputNames = TwoDOperatorTests.InputNames;
    private static readonly string[] OutputNames = { "Y", "FinalRight", "FinalBottom" };

    private static Differentiate.Result Run(Plstm2DInputs inputs, Func<Plstm2DInputs, Plstm2DOutput> form) =>
        Differentiate.Run(TwoDOperatorTests.ToArray(inputs), a =>
        {
            var o = form(TwoDOperatorTests.FromArray(a));
            return new[] { o.Y, o.FinalRight, o.FinalBottom };
        });

    private static Differentiate.Result RunOutput(Plstm2DInputs inputs, Func<Plstm2DInputs, Tensor> form) =>
        Differentiate.Run(TwoDOperatorTests.ToArray(inputs), a => new[] { form(TwoDOperatorTests.FromArray(a)) });

    /// <summary>Grid shapes of the issue with chunk sides 1, 2, 4, 8 (those not above the longer side), rotating through
    /// the wirings and the gate kinds, with and without initial border states.</summary>
    public static TheoryData<int, int, int, string> Cases()
    {
        var data = new TheoryData<int, int, int, string>();
        var shapes = new (int X, int Y)[] { (1, 1), (1, 7), (7, 1), (3, 5), (5, 13), (16, 16), (17, 9), (2, 33) };
        var kinds = new[] { "random-all", "P", "D-L", "D-R", "random-straight" };
        int i = 0;
        foreach (var (x, y) in shapes)
            foreach (int side in new[] { 1, 2, 4, 8 })
                if (side == 1 || side <= Math.Max(x, y))
                    data.Add(x, y, side, kinds[i++ % kinds.Length]);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Chunkwise_equals_naive_outputs_final_states_and_gradients(int x, int y, int chunkSide, string kind)
    {
        using var scope = NewDisposeScope();
        var inputs = ScalarInputs(seed: 1000 + 37 * x + y + chunkSide, x, y, kind, withInitial: (x + y + chunkSide) % 2 == 0);
        FormComparison.AssertSame(Run(inputs, i => Plstm2DChunkwise.Forward(i, chunkSide)),
            Run(inputs, i => Plstm2DNaive.Forward(i)), OutputNames, InputNames);
    }

    /// <summary>The output-only entry point (no ports and no border pass for one chunk without initial states) must equal
    /// the naive output and its gradients, for one chunk, one chunk row or column, and many chunks.</summary>
    [Theory]
    [InlineData(4, 4, 4, false, "P")]
    [InlineData(4, 4, 8, true, "D-L")]
    [InlineData(16, 16, 16, false, "D-R")]
    [InlineData(8, 4, 4, false, "random-all")]
    [InlineData(4, 9, 4, true, "P")]
    [InlineData(7, 9, 3, false, "random-straight")]
    [InlineData(14, 14, 16, false, "P")]
    public void Output_only_equals_naive_output_and_gradients(int x, int y, int chunkSide, bool withInitial, string kind)
    {
        using var scope = NewDisposeScope();
        var inputs = ScalarInputs(seed: 2000 + x * y + chunkSide, x, y, kind, withInitial);
        FormComparison.AssertSame(RunOutput(inputs, i => Plstm2DChunkwise.Output(i, chunkSide)),
            RunOutput(inputs, i => Plstm2DNaive.Forward(i).Y), new[] { "Y" }, InputNames);
    }

    [Theory]
    [InlineData(8, 8, 8, "P")]
    [InlineData(12, 5, 4, "D-L")]
    [InlineData(16, 16, 8, "random-all")]
    public void Chunkwise_float32_matches_float64_naive(int x, int y, int chunkSide, string kind)
    {
        using var scope = NewDisposeScope();
        var inputs64 = ScalarInputs(seed: 3000 + x + y, x, y, kind, withInitial: true);
        var inputs32 = TwoDOperatorTests.FromArray(TwoDOperatorTests.ToArray(inputs64).Select(t => t?.to(float32)).ToArray());
        FormComparison.AssertSame(Run(inputs32, i => Plstm2DChunkwise.Forward(i, chunkSide)),
            Run(inputs64, i => Plstm2DNaive.Forward(i)), OutputNames, InputNames, float32: true);
    }

    [Fact]
    public void Result_does_not_depend_on_the_chunk_side()
    {
        using var scope = NewDisposeScope();
        var inputs = ScalarInputs(seed: 4, 12, 10, "random-all", withInitial: true);
        var reference = Plstm2DChunkwise.Forward(inputs, 1);
        foreach (int side in new[] { 2, 3, 5, 7, 12, 64 })
        {
            var other = Plstm2DChunkwise.Forward(inputs, side);
            TensorAssert.AssertClose(other.Y, reference.Y, $"Y at chunk side {side}", Tolerances.Float64Rtol, Tolerances.Float64Atol);
            TensorAssert.AssertClose(other.FinalRight, reference.FinalRight, $"FinalRight at chunk side {side}", Tolerances.Float64Rtol, Tolerances.Float64Atol);
            TensorAssert.AssertClose(other.FinalBottom, reference.FinalBottom, $"FinalBottom at chunk side {side}", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        }
    }

    /// <summary>Recomputing the in-chunk program in backward (custom autograd function) gives the same outputs and every
    /// gradient as keeping it: one chunk without ports, several chunks with ports, absent turns, initial states.</summary>
    [Theory]
    [InlineData(6, 5, 16, "P", false)]
    [InlineData(9, 7, 4, "D-L", true)]
    [InlineData(5, 13, 4, "D-R", false)]
    [InlineData(8, 8, 3, "random-straight", true)]
    public void Recomputing_in_backward_equals_storing(int x, int y, int chunkSide, string kind, bool withInitial)
    {
        using var scope = NewDisposeScope();
        var inputs = ScalarInputs(seed: 5000 + x * y, x, y, kind, withInitial);
        var stored = Run(inputs, i => Plstm2DChunkwise.Forward(i, chunkSide));
        FormComparison.AssertSame(Run(inputs, i => Plstm2DChunkwise.Forward(i, chunkSide, recomputeInBackward: true)), stored,
            OutputNames, InputNames);
        FormComparison.AssertSame(
            RunOutput(inputs, i => Plstm2DChunkwise.Output(i, chunkSide, recomputeInBackward: true)),
            RunOutput(inputs, i => Plstm2DNaive.Forward(i).Y), new[] { "Y" }, InputNames);
    }

    [Fact]
    public void Non_scalar_gates_fall_back_to_an_exact_form()
    {
        using var scope = NewDisposeScope();
        var inputs = RandomInputs.TwoD(seed: 5, B: 2, X: 5, Y: 6, DK: 3, DV: 2, JDims.Mixed, withInitial: true);
        FormComparison.AssertSame(Run(inputs, i => Plstm2DChunkwise.Forward(i, 4)),
            Run(inputs, i => Plstm2DNaive.Forward(i)), OutputNames, InputNames);
    }

    [Fact]
    public void Chunk_side_below_one_is_rejected_naming_the_argument()
    {
        using var scope = NewDisposeScope();
        var inputs = ScalarInputs(seed: 6, 3, 3, "P", withInitial: false);
        var ex = Assert.ThrowsAny<ArgumentException>(() => Plstm2DChunkwise.Forward(inputs, 0));
        Assert.Equal("chunkSide", ex.ParamName);
        ex = Assert.ThrowsAny<ArgumentException>(() => Plstm2DChunkwise.Output(inputs, -3));
        Assert.Equal("chunkSide", ex.ParamName);
    }

    [Fact]
    public void Chunk_partition_is_near_equal_and_covers_the_grid()
    {
        var part = ChunkPartition.Of(17, 9, 8);
        Assert.Equal((3L, 6L, 18L), (part.NX, part.Px, part.Xp));
        Assert.Equal((2L, 5L, 10L), (part.NY, part.Py, part.Yp));
        Assert.False(part.IsExact);
        var exact = ChunkPartition.Of(32, 14, 16);
        Assert.Equal((2L, 16L, 1L, 14L), (exact.NX, exact.Px, exact.NY, exact.Py));
        Assert.True(exact.IsExact);
    }

    /// <summary>
    /// Scalar-gated random inputs, B = 2, DK = 3, DV = 2, of a given kind: "random-all" / "random-straight" (uniform gates,
    /// all four or only the straight transitions), "P" (the P-mode construction of operators §4.1: S_r = o·s,
    /// S_d = 1 − o·s, T_rl = T_ru = o·t, T_du = T_dl = 1 − o·t, M_l = M_u, with o, s, t in (0, 1)), "D-L" / "D-R"
    /// (independent S and M, straight transitions in (−1, 1) and one turn: up → right for L, left → down for R).
    /// </summary>
    internal static Plstm2DInputs ScalarInputs(long seed, long x, long y, string kind, bool withInitial,
        ScalarType dtype = ScalarType.Float64)
    {
        const long B = 2, DK = 3, DV = 2;
        var g = new Generator((ulong)seed);
        Tensor Normal(params long[] shape) => RandomInputs.Normal(g, dtype, shape);
        Tensor Unit() => rand(new[] { B, x, y }, dtype: float64, generator: g).to(dtype);       // (0, 1) per cell
        Tensor Signed() => Unit() * 2 - 1;                                                       // (−1, 1) per cell
        Tensor Half() => Unit() - 0.5;                                                           // (−0.5, 0.5) per cell
        Tensor S(Tensor t) => t.reshape(B, x, y, 1, 1, 1);
        Tensor T(Tensor t) => t.reshape(B, x, y, 1, 1);
        Tensor M(Tensor t) => t.reshape(B, x, y, 1, 1, 1);

        var q = Normal(B, x, y, DK, 1);
        var k = Normal(B, x, y, DK, 1);
        var v = Normal(B, x, y, DV, 1);
        var d0 = Half().reshape(B, x, y, 1, 1, 1, 1);
        var left = withInitial ? Normal(B, y, DK, DV, 1) : null;
        var top = withInitial ? Normal(B, x, DK, DV, 1) : null;
        switch (kind)
        {
            case "P":
            {
                var (o, s, t, m) = (Unit(), Unit(), Unit(), Unit());
                var right = T(o * t);
                var down = T(1 - o * t);
                return new Plstm2DInputs(q, k, v, S(o * s), S(1 - o * s), right, down, down.clone(), right.clone(),
                    M(m), M(m).clone(), d0, left, top);
            }
            case "D-L":
            case "D-R":
            {
                var turn = T(Signed());
                return new Plstm2DInputs(q, k, v, S(Unit()), S(Unit()), T(Signed()), T(Signed()),
                    kind == "D-R" ? turn : null, kind == "D-L" ? turn : null, M(Unit()), M(Unit()), d0, left, top);
            }
            case "random-all":
            case "random-straight":
            {
                bool turns = kind == "random-all";
                return new Plstm2DInputs(q, k, v, S(Half()), S(Half()), T(Half()), T(Half()),
                    turns ? T(Half()) : null, turns ? T(Half()) : null, M(Half()), M(Half()), d0, left, top);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown gate kind");
        }
    }
}
