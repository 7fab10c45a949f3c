using Plstm.Ops.Common;
using Plstm.Ops.TwoD;
using Plstm.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Tests.Ops;

/// <summary>
/// <see cref="MaskedAttentionKernel"/> runs on CUDA only (float32, tensor cores); its values are checked on the GPU by
/// <c>plstm selfcheck</c> (against float64 products) and, through the layer, by the selfcheck's float32 layer cases.
/// Here: what it refuses, so that every other device and dtype keeps the batched products (tested to the bit by
/// <see cref="WalkedGateAttentionTests"/>), and that a refused call names the argument; and the kernels' layout, through
/// <see cref="MaskedAttentionKernelMirror"/> (their tiles, fragments and index expressions in C#), against plain products.
/// </summary>
public class MaskedAttentionKernelTests
{
    [Theory]
    [InlineData(ScalarType.Float32, 64, 64)]
    [InlineData(ScalarType.Float64, 64, 64)]
    [InlineData(ScalarType.Float32, 8, 8)]
    public void Does_not_run_on_the_cpu(ScalarType dtype, int dk, int dv)
    {
        using var q = zeros(new long[] { 2, 5, dk }, dtype: dtype);
        Assert.False(MaskedAttentionKernel.CanRun(q, 2, dk, dv));
    }

    [Theory]
    [InlineData(384, 64, 64, true)]
    [InlineData(1, 8, 8, true)]
    [InlineData(3, 8, 56, true)]
    [InlineData(65_535, 24, 40, true)]
    [InlineData(0, 64, 64, false)]
    [InlineData(65_536, 64, 64, false)]
    [InlineData(2, 12, 64, false)]
    [InlineData(2, 64, 20, false)]
    [InlineData(2, 72, 64, false)]
    [InlineData(2, 64, 128, false)]
    [InlineData(2, 0, 8, false)]
    public void Takes_the_widths_and_batch_sizes_it_was_built_for(int n, int dk, int dv, bool expected) =>
        Assert.Equal(expected, MaskedAttentionKernel.TakesShape(n, dk, dv));

    /// <summary>Calls that name no precision follow <c>torch.backends.cuda.matmul.allow_tf32</c>, as PyTorch's float32
    /// matmuls do (the flag touches CUDA products only, so flipping it here cannot disturb the CPU tests beside).</summary>
    [Fact]
    public void Default_precision_follows_allow_tf32()
    {
        bool before = backends.cuda.matmul.allow_tf32;
        try
        {
            backends.cuda.matmul.allow_tf32 = true;
            Assert.Equal(MaskedAttentionPrecision.Tf32, MaskedAttentionKernel.DefaultPrecision);
            backends.cuda.matmul.allow_tf32 = false;
            Assert.Equal(MaskedAttentionPrecision.Float32, MaskedAttentionKernel.DefaultPrecision);
        }
        finally
        {
            backends.cuda.matmul.allow_tf32 = before;
        }
    }

    [Fact]
    public void Refuses_cpu_operands_naming_q()
    {
        using var q = zeros(2, 5, 8);
        using var k = zeros(2, 5, 8);
        using var v = zeros(2, 5, 8);
        using var gate = zeros(2, 5, 5);
        using var dy = zeros(2, 5, 8);
        var forward = Assert.Throws<ArgumentException>(() => MaskedAttentionKernel.Forward(q, k, v, gate));
        Assert.Equal("q", forward.ParamName);
        var backward = Assert.Throws<ArgumentException>(() => MaskedAttentionKernel.Backward(q, k, v, gate, dy));
        Assert.Equal("q", backward.ParamName);
    }

    private static Tensor[] RandomOperands(int seed, int n, int t, int dk, int dv)
    {
        using var generator = new Generator((ulong)seed);
        // float32 values (the kernels' inputs), held in float64.
        Tensor R(params long[] shape) => randn(shape, generator: generator).to(ScalarType.Float64);
        return new[] { R(n, t, dk), R(n, t, dk), R(n, t, dv), R(n, t, t) / Math.Sqrt(t), R(n, t, dv) };
    }

    private static double[] Flat(Tensor x) => x.contiguous().data<double>().ToArray();

    /// <summary>The mirror's Y, dQ, dK, dV, dG (the two-kernel backward, then the fused one) and the same from plain
    /// float64 products.</summary>
    private static (string Name, Tensor Mirror, Tensor Expected)[] MirrorAndProducts(Tensor[] x, bool tf32)
    {
        var (q, k, v, gate, dy) = (x[0], x[1], x[2], x[3], x[4]);
        var shape = q.shape;
        int n = (int)shape[0], t = (int)shape[1], dk = (int)shape[2], dv = (int)v.shape[2];
        var (fq, fk, fv, fg, fdy) = (Flat(q), Flat(k), Flat(v), Flat(gate), Flat(dy));
        var y = MaskedAttentionKernelMirror.Forward(fq, fk, fv, fg, n, t, dk, dv, tf32);
        var (dq, dg) = MaskedAttentionKernelMirror.BackwardQuery(fq, fk, fv, fg, fdy, n, t, dk, dv, tf32);
        var (dK, dV) = MaskedAttentionKernelMirror.BackwardKey(fq, fk, fv, fg, fdy, n, t, dk, dv, tf32);
        var (fusedQ, fusedK, fusedV, fusedG) = MaskedAttentionKernelMirror.BackwardFused(fq, fk, fv, fg, fdy, n, t, dk, dv, tf32);
        var scores = q.matmul(k.transpose(1, 2));
        var dA = dy.matmul(v.transpose(1, 2));
        var dS = dA * gate;
        Tensor T3(double[] values, long last) => tensor(values, new long[] { n, t, last }, ScalarType.Float64);
        return new[]
        {
            ("Y", T3(y, dv), (scores * gate).matmul(v)), ("dQ", T3(dq, dk), dS.matmul(k)),
            ("dK", T3(dK, dk), dS.transpose(1, 2).matmul(q)), ("dV", T3(dV, dv), (scores * gate).transpose(1, 2).matmul(dy)),
            ("dG", T3(dg, t), dA * scores),
            ("fused dQ", T3(fusedQ, dk), dS.matmul(k)), ("fused dK", T3(fusedK, dk), dS.transpose(1, 2).matmul(q)),
            ("fused dV", T3(fusedV, dv), (scores * gate).transpose(1, 2).matmul(dy)), ("fused dG", T3(fusedG, t), dA * scores),
        };
    }

    /// <summary>Token counts around the tiles (16 rows per warp, 64 per block; key tiles of 64 forward, 32 backward: one
    /// token, a part of a warp, several blocks with partial last tiles), DK ≠ DV both ways, every width from 8 to 64.</summary>
    [Theory]
    [InlineData(2, 1, 8, 8)]
    [InlineData(2, 7, 16, 8)]
    [InlineData(1, 33, 8, 24)]
    [InlineData(2, 70, 24, 16)]
    [InlineData(1, 130, 16, 8)]
    [InlineData(1, 97, 56, 64)]
    [InlineData(1, 64, 32, 40)]
    public void The_kernels_layout_gives_the_products_and_their_gradients(int n, int t, int dk, int dv)
    {
        using var scope = NewDisposeScope();
        foreach (var (name, mirror, expected) in MirrorAndProducts(RandomOperands(100 * t + dk, n, t, dk, dv), tf32: false))
            TensorAssert.AssertClose(mirror, expected, name, Tolerances.Float64Rtol, Tolerances.Float64Atol);
    }

    /// <summary>A projection output <c>[B, T, 3·H·W + gate columns]</c> as the 2D layer passes it (two batch entries ×
    /// three heads, 70 tokens: two row blocks, partial tiles), dY per head <c>[B, T, H, W]</c> and a gate, with the mirror's
    /// layouts of them and the plain products of the heads-folded operands.</summary>
    private sealed class ProjectionCase
    {
        public const int B = 2, Heads = 3, T = 70, GateColumns = 12, N = B * Heads;
        public readonly int W, C;
        public readonly Tensor Gate, Q, K, V, Dy, Scores, DA, DS;
        public readonly double[] Proj, DyPerHead, GateValues;

        public ProjectionCase(int seed, int w)
        {
            (W, C) = (w, 3 * Heads * w + GateColumns);
            using var generator = new Generator((ulong)seed);
            var proj = randn(new long[] { B, T, C }, generator: generator, dtype: ScalarType.Float64);
            var dyPerHead = randn(new long[] { B, T, Heads, w }, generator: generator, dtype: ScalarType.Float64);
            Gate = randn(new long[] { N, T, T }, generator: generator, dtype: ScalarType.Float64) / Math.Sqrt(T);
            // The heads folded into the batch, as the composition does: [3, B·H, T, W]; dY [B·H, T, W].
            var folded = proj.narrow(2, 0, 3 * Heads * w).reshape(B, T, 3, Heads, w).permute(2, 0, 3, 1, 4).reshape(3, N, T, w);
            (Q, K, V) = (folded[0], folded[1], folded[2]);
            Dy = dyPerHead.permute(0, 2, 1, 3).reshape(N, T, w);
            Scores = Q.matmul(K.transpose(1, 2));
            DA = Dy.matmul(V.transpose(1, 2));
            DS = DA * Gate;
            (Proj, DyPerHead, GateValues) = (Flat(proj), Flat(dyPerHead), Flat(Gate));
        }

        /// <summary>Column block <paramref name="index"/> (q, k, v) of the projection output or its gradient.</summary>
        public MaskedAttentionKernelMirror.Layout Block(int index) => new((long)T * C, W, C, Heads, index * Heads * W);

        /// <summary>A <c>[B, T, H, W]</c> operand (y, dY).</summary>
        public MaskedAttentionKernelMirror.Layout PerHead => new((long)T * Heads * W, W, Heads * W, Heads);

        /// <summary>[B·H, T, W] → [B, T, H, W].</summary>
        public Tensor Unfold(Tensor x) => x.reshape(B, Heads, T, W).permute(0, 2, 1, 3);

        /// <summary>dQ, dK, dV in their column blocks of <paramref name="dProj"/>, the gate's gradient, and the gate columns
        /// untouched (NaN as filled).</summary>
        public void AssertGradients(double[] dProj, double[] dGate)
        {
            var dProjTensor = tensor(dProj, new long[] { B, T, C }, ScalarType.Float64);
            var expected = new[] { DS.matmul(K), DS.transpose(1, 2).matmul(Q), (Scores * Gate).transpose(1, 2).matmul(Dy) };
            string[] names = { "dQ", "dK", "dV" };
            for (int i = 0; i < 3; i++)
                TensorAssert.AssertClose(dProjTensor.narrow(2, i * Heads * W, Heads * W).reshape(B, T, Heads, W),
                    Unfold(expected[i]), names[i], Tolerances.Float64Rtol, Tolerances.Float64Atol);
            TensorAssert.AssertClose(tensor(dGate, new long[] { N, T, T }, ScalarType.Float64), DA * Scores, "dG",
                Tolerances.Float64Rtol, Tolerances.Float64Atol);
            Assert.True(dProjTensor.narrow(2, 3 * Heads * W, GateColumns).isnan().all().item<bool>(),
                "the gate columns of the gradient buffer were written");
        }
    }

    /// <summary>The kernels' row layouts as the 2D layer uses them (<c>ProjectedGateAttention</c>): q, k, v read as column
    /// blocks of a projection output (entry (b, h) at head h's W columns), y and dY in <c>[B, T, H, W]</c>, dQ, dK, dV
    /// written into the column blocks of one gradient buffer — against plain products of the heads-folded operands; the
    /// buffer's gate columns stay as they were (nothing written past a block), every entry of y is written.</summary>
    [Fact]
    public void The_kernels_read_and_write_the_layers_projection_layout()
    {
        using var scope = NewDisposeScope();
        var x = new ProjectionCase(4242, 8);
        const int n = ProjectionCase.N, t = ProjectionCase.T;
        var (fp, fdy, fg, w) = (x.Proj, x.DyPerHead, x.GateValues, x.W);
        var y = Enumerable.Repeat(double.NaN, n * t * w).ToArray();
        MaskedAttentionKernelMirror.ForwardInto(fp, x.Block(0), fp, x.Block(1), fp, x.Block(2), fg, y, x.PerHead, n, t, w, w);
        var dProj = Enumerable.Repeat(double.NaN, ProjectionCase.B * t * x.C).ToArray();
        var dGate = new double[n * t * t];
        MaskedAttentionKernelMirror.BackwardQueryInto(fp, x.Block(0), fp, x.Block(1), fp, x.Block(2), fg, fdy, x.PerHead,
            dProj, x.Block(0), dGate, n, t, w, w);
        MaskedAttentionKernelMirror.BackwardKeyInto(fp, x.Block(0), fp, x.Block(1), fp, x.Block(2), fg, fdy, x.PerHead,
            dProj, x.Block(1), dProj, x.Block(2), n, t, w, w);
        TensorAssert.AssertClose(tensor(y, new long[] { ProjectionCase.B, t, ProjectionCase.Heads, w }, ScalarType.Float64),
            x.Unfold((x.Scores * x.Gate).matmul(x.V)), "Y", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        x.AssertGradients(dProj, dGate);
    }

    /// <summary>The forward with the per-head RMS norm in its epilogue (plstm_masked_attention_forward_normalized), in the
    /// layer's layout: y as the plain forward's, ŷ = y / √(mean y² + eps) per row of <c>[B, T, H, W]</c>, and the factors
    /// in that row order (what the norm's backward kernel reads) — every entry written.</summary>
    [Fact]
    public void The_normalized_forward_writes_y_its_norm_and_the_factors_in_the_layers_rows()
    {
        using var scope = NewDisposeScope();
        var x = new ProjectionCase(4343, 16);
        const int n = ProjectionCase.N, t = ProjectionCase.T, b = ProjectionCase.B, heads = ProjectionCase.Heads;
        const double eps = 1e-3;
        var (fp, fg, w) = (x.Proj, x.GateValues, x.W);
        double[] Filled(int count) => Enumerable.Repeat(double.NaN, count).ToArray();
        var (y, yhat, inverse) = (Filled(n * t * w), Filled(n * t * w), Filled(n * t));
        MaskedAttentionKernelMirror.ForwardNormalizedInto(fp, x.Block(0), fp, x.Block(1), fp, x.Block(2), fg, y, yhat,
            inverse, x.PerHead, eps, n, t, w, w);
        var expectedY = x.Unfold((x.Scores * x.Gate).matmul(x.V));                         // [B, T, H, W]
        var expectedR = (expectedY.square().mean(new long[] { -1 }) + eps).rsqrt();          // [B, T, H]
        var shape = new long[] { b, t, heads, w };
        TensorAssert.AssertClose(tensor(y, shape, ScalarType.Float64), expectedY, "y", Tolerances.Float64Rtol,
            Tolerances.Float64Atol);
        TensorAssert.AssertClose(tensor(yhat, shape, ScalarType.Float64), expectedY * expectedR.unsqueeze(-1), "ŷ",
            Tolerances.Float64Rtol, Tolerances.Float64Atol);
        TensorAssert.AssertClose(tensor(inverse, new long[] { b, t, heads }, ScalarType.Float64), expectedR, "r",
            Tolerances.Float64Rtol, Tolerances.Float64Atol);
        Assert.True(expectedR.max().item<double>() / expectedR.min().item<double>() > 1.5,
            "the rows' factors are too alike for the test to tell rows apart");
    }

    /// <summary>The fused backward with the query tiles of 16 the host picks for small grids (one 16-row query tile per
    /// tile, the n-slices spread over all four warps) and of 64 (four query tiles, one per warp), against plain products:
    /// token counts around those tiles, widths whose n-slices do not divide evenly among the warps.</summary>
    [Theory]
    [InlineData(16, 1, 1, 8, 8)]
    [InlineData(16, 2, 33, 24, 16)]
    [InlineData(16, 1, 70, 40, 8)]
    [InlineData(64, 1, 97, 16, 24)]
    [InlineData(64, 1, 130, 64, 8)]
    public void The_fused_backward_takes_query_tiles_of_16_and_64(int tile, int n, int t, int dk, int dv)
    {
        using var scope = NewDisposeScope();
        var x = RandomOperands(10 * t + dk + tile, n, t, dk, dv);
        var (q, k, v, gate, dy) = (x[0], x[1], x[2], x[3], x[4]);
        var (dq, dK, dV, dg) = MaskedAttentionKernelMirror.BackwardFused(Flat(q), Flat(k), Flat(v), Flat(gate), Flat(dy), n, t,
            dk, dv, tile: tile);
        var scores = q.matmul(k.transpose(1, 2));
        var dA = dy.matmul(v.transpose(1, 2));
        var dS = dA * gate;
        Tensor T3(double[] values, long last) => tensor(values, new long[] { n, t, last }, ScalarType.Float64);
        TensorAssert.AssertClose(T3(dq, dk), dS.matmul(k), "dQ", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        TensorAssert.AssertClose(T3(dK, dk), dS.transpose(1, 2).matmul(q), "dK", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        TensorAssert.AssertClose(T3(dV, dv), (scores * gate).transpose(1, 2).matmul(dy), "dV", Tolerances.Float64Rtol,
            Tolerances.Float64Atol);
        TensorAssert.AssertClose(T3(dg, t), dA * scores, "dG", Tolerances.Float64Rtol, Tolerances.Float64Atol);
    }

    /// <summary>The fused backward in the layer's layout: dQ added into the zeroed q columns of the gradient buffer, dK and
    /// dV written into theirs, the gate columns untouched — against plain products of the heads-folded operands; 70 tokens
    /// (two key blocks adding into each dQ row, partial tiles), DK 16 (n-slices split over the warps of a query tile).</summary>
    [Fact]
    public void The_fused_backward_adds_dq_into_the_layers_projection_layout()
    {
        using var scope = NewDisposeScope();
        var x = new ProjectionCase(4243, 16);
        const int n = ProjectionCase.N, t = ProjectionCase.T;
        var (fp, fdy, fg, w) = (x.Proj, x.DyPerHead, x.GateValues, x.W);
        var dProj = Enumerable.Repeat(double.NaN, ProjectionCase.B * t * x.C).ToArray();
        for (int row = 0; row < ProjectionCase.B * t; row++)                   // the caller zeroes the q columns
            Array.Clear(dProj, row * x.C, ProjectionCase.Heads * w);
        var dGate = new double[n * t * t];
        MaskedAttentionKernelMirror.BackwardFusedInto(fp, x.Block(0), fp, x.Block(1), fp, x.Block(2), fg, fdy, x.PerHead,
            dProj, x.Block(0), dProj, x.Block(1), dProj, x.Block(2), dGate, n, t, w, w);
        x.AssertGradients(dProj, dGate);
    }

    /// <summary>The 3xTF32 splits as the kernels make them (the products' accumulation in float64 here) keep every output
    /// and gradient within the float32 rule of the exact products — and a plain TF32 product would not: the check fails
    /// with the small parts dropped (so it can tell).</summary>
    [Fact]
    public void Three_tf32_products_meet_the_float32_rule()
    {
        using var scope = NewDisposeScope();
        var operands = RandomOperands(7, 2, 100, 64, 64);
        foreach (var (name, mirror, expected) in MirrorAndProducts(operands, tf32: true))
            TensorAssert.AssertCloseFloat32(mirror, expected, name);
        // One TF32 product instead of three: every operand truncated to TF32, products exact.
        Tensor Truncated(Tensor x) => EachValue(x, value => BitConverter.Int32BitsToSingle(
            BitConverter.SingleToInt32Bits((float)value) & unchecked((int)0xffffe000)));
        var singleY = MirrorAndProducts(operands.Select(Truncated).ToArray(), tf32: false)[0].Mirror;
        var exactY = MirrorAndProducts(operands, tf32: false)[0].Expected;
        Assert.NotNull(TensorAssert.CompareFloat32(singleY, exactY, "Y with one TF32 product"));
    }

    /// <summary>The TF32 rule that `plstm selfcheck` holds the kernels' one-product form
    /// (<see cref="MaskedAttentionPrecision.Tf32"/>) to: operands rounded to TF32 as the kernels round them (products exact
    /// here) stay within it, at the largest width and a few hundred tokens — and an operand off by one row would not.</summary>
    [Fact]
    public void One_rounded_tf32_product_meets_the_tf32_rule()
    {
        using var scope = NewDisposeScope();
        var operands = RandomOperands(8, 2, 300, 64, 64);
        Tensor Rounded(Tensor x) => EachValue(x, value => MaskedAttentionKernelMirror.RoundToTf32((float)value));
        var rounded = MirrorAndProducts(operands.Select(Rounded).ToArray(), tf32: false);
        var exact = MirrorAndProducts(operands, tf32: false);
        string? Tf32(Tensor actual, Tensor expected, string what) =>
            TensorAssert.CompareScaled(actual, expected, what, NumericTolerances.Tf32Rtol, NumericTolerances.Tf32AbsScale);
        for (int i = 0; i < exact.Length; i++)
            Assert.Null(Tf32(rounded[i].Mirror, exact[i].Expected, exact[i].Name));
        var shifted = operands[0].roll(1, 1);                                        // Q one row off
        Assert.NotNull(Tf32(MirrorAndProducts([shifted, .. operands[1..]], tf32: false)[0].Mirror, exact[0].Expected, "Y"));
    }

    /// <summary>A float64 tensor of x's shape holding <paramref name="map"/> of each of its values.</summary>
    private static Tensor EachValue(Tensor x, Func<double, double> map) =>
        tensor(Flat(x).Select(map).ToArray(), x.shape, ScalarType.Float64);
}
