using Plstm.Ops.TwoD;
using Plstm.Tests.Support;

namespace Plstm.Tests.Ops;

/// <summary>
/// The CUDA kernel's algorithm (<see cref="FusedGateKernelMirror"/>, its loops in C#) against the row-scan form's summed
/// four-orientation gate (<c>Plstm2DFused.SummedRowScanGate</c>, tested against the naive oracle elsewhere): the gate,
/// and the gradient of every gate input through the kernel's hand-written adjoint walk against autograd, in float64 on
/// awkward grids with every transition wiring and one or four orientations. Plus the kernel's refusal of what it cannot
/// take, which on this CPU-only machine is everything (the kernel form then runs the CPU walk, FusedGateCpuKernel: same
/// result).
/// </summary>
public class FusedGateKernelTests
{
    [Theory]
    [MemberData(nameof(GateWalkCases.Grids), MemberType = typeof(GateWalkCases))]
    public void Kernel_loops_equal_the_row_scan_gate_and_its_gradients(int x, int y, string wiring) =>
        // The backward whole (segment 0) and in segments of 1, 2 and 3 scan lines (the kernel's SEG).
        AssertMirrorMatchesRowScan(9000, x, y, wiring, [default], [0, 1, 2, 3]);

    /// <summary>Source tiles (the kernel's TILE_X × TILE_Y: each warp walks a tile of lines × columns of sources, starting
    /// at the tile's first line and skipping the positions before its first column): the gate and every gate gradient
    /// are the row scan's, for tiles of every aspect, on the awkward grids and on grids of several partial tiles.</summary>
    [Theory]
    [MemberData(nameof(TiledGrids))]
    public void Kernel_loops_with_source_tiles_equal_the_row_scan_gate_and_its_gradients(int x, int y, string wiring) =>
        AssertMirrorMatchesRowScan(9200, x, y, wiring, [(4, 8), (8, 4), (2, 16), (32, 1)], [0, 1, 3]);

    /// <summary>The mirror's gate (orientations paired, the kernel's default, and one at a time) and its backward (in
    /// each of <paramref name="segments"/>) against the row-scan gate and autograd, for each of <paramref name="tiles"/>,
    /// on random gates of <paramref name="wiring"/>.</summary>
    private static void AssertMirrorMatchesRowScan(int seed, int x, int y, string wiring, (int, int)[] tiles, int[] segments)
    {
        using var scope = NewDisposeScope();
        const int N = 2;
        var gates = GateWalkCases.RandomGates(seed + 31 * x + y, N, 4, x, y, wiring);
        var (reference, weights) = GateWalkCases.RowScanReference(gates, N, x, y, seed + 1);
        // The kernel's layout: [N, O, 8, cells], absent turns as zeros.
        var stacked = GateWalkCases.Stacked(gates, N, 4, x, y).detach();
        var flat = stacked.contiguous().data<double>().ToArray();
        var dOut = weights.contiguous().data<double>().ToArray();
        foreach (var tile in tiles)
        {
            foreach (bool pairs in new[] { true, false })
            {
                var gate = FusedGateKernelMirror.Forward(flat, N, 4, x, y, pairs: pairs, tiles: tile);
                TensorAssert.AssertClose(tensor(gate, reference.shape, dtype: float64), reference,
                    $"gate (tiles {tile}, pairs {pairs})", Tolerances.Float64Rtol, Tolerances.Float64Atol);
            }
            // Segments of one line also with the lean second walk (the kernel's WALK2_LEAN).
            foreach (var (segment, lean) in segments.Select(s => (s, false)).Concat(segments.Contains(1) ? [(1, true)] : []))
            {
                var dGates = tensor(FusedGateKernelMirror.Backward(flat, dOut, N, 4, x, y, segment: segment, tiles: tile, lean: lean),
                    stacked.shape, dtype: float64);
                for (int i = 0; i < 8; i++)
                {
                    if (gates[i] is null) continue;
                    TensorAssert.AssertClose(dGates.select(2, i), gates[i]!.grad!,
                        $"d{GateWalkCases.GateNames[i]} (tiles {tile}, segment {segment}, lean {lean})", Tolerances.Float64Rtol, Tolerances.Float64Atol);
                }
            }
        }
    }

    /// <summary>The awkward grids, and grids of several partial tiles of every tile shape above.</summary>
    public static TheoryData<int, int, string> TiledGrids()
    {
        var grids = GateWalkCases.Grids();
        grids.Add(9, 17, "all");
        grids.Add(11, 10, "DL");
        return grids;
    }

    /// <summary>The host's launch for source tiles covers every source: ⌈X / L⌉ · ⌈Y / C⌉ warps (each source in exactly
    /// one tile), tiles only where the kernel takes them, and "LxC" parsed only when L · C = 32.</summary>
    [Fact]
    public void Source_tiles_are_launched_for_every_source_and_parsed_strictly()
    {
        Assert.Equal(((9 + 3) / 4) * ((17 + 7) / 8) * 32L, FusedGateKernel.SourceSlots(9, 17, (4, 8)));
        Assert.Equal(14 * 14L, FusedGateKernel.SourceSlots(14, 14, (0, 0)));
        foreach (var (x, y) in new[] { (1, 1), (14, 14), (32, 32), (5, 31), (33, 31) })
            foreach (var tiles in new[] { (4, 8), (8, 4), (1, 32), (32, 1) })
                Assert.True(FusedGateKernel.SourceSlots(x, y, tiles) >= x * y);
        Assert.Equal((4, 8), FusedGateKernel.TilesFor(32, 32, (4, 8)));
        Assert.Equal((0, 0), FusedGateKernel.TilesFor(16, 64, (4, 8)));             // lines of more than 32 cells
        Assert.Equal((0, 0), FusedGateKernel.TilesFor(40, 32, (4, 8)));             // more than 1,024 cells
        Assert.Equal((4, 8), FusedGateKernel.ParseWalkTiles("4x8"));
        Assert.Equal((32, 1), FusedGateKernel.ParseWalkTiles("32x1"));
        foreach (var text in new[] { null, "", "4x4", "4*8", "x8", "4x8x1", "-4x-8", "4x 8" })
            Assert.Equal((0, 0), FusedGateKernel.ParseWalkTiles(text));
        Assert.Equal(FusedGateKernel.WalkTiling.None, FusedGateKernel.ParseTiling("off"));
        Assert.Equal(new FusedGateKernel.WalkTiling((8, 4), true), FusedGateKernel.ParseTiling("8x4"));
        Assert.Null(FusedGateKernel.ParseTiling(null));
        Assert.Null(FusedGateKernel.ParseTiling("4x4"));
        var both = FusedGateKernel.Definitions((ScalarType.Float32, 14, 14), new FusedGateKernel.WalkTiling((4, 8), true));
        Assert.Equal("4", both["TILE_X"]);
        Assert.Equal("8", both["TILE_Y"]);
        Assert.False(both.ContainsKey("TILE_BWD"));
        Assert.False(FusedGateKernel.Definitions((ScalarType.Float32, 14, 14), FusedGateKernel.WalkTiling.None).ContainsKey("TILE_X"));
        // The measured default: the forward tiled above 576 cells (where it takes tiles at all), the backward never.
        Assert.Equal(FusedGateKernel.WalkTiling.None, FusedGateKernel.DefaultTiling(24, 24));
        var large = FusedGateKernel.DefaultTiling(32, 32);
        Assert.Equal(((4, 8), (0, 0)), (large.Tiles, large.BackwardTiles));
        var forwardOnly = FusedGateKernel.Definitions((ScalarType.Float32, 32, 32), large);
        Assert.Equal(("4", "8", "0"), (forwardOnly["TILE_X"], forwardOnly["TILE_Y"], forwardOnly["TILE_BWD"]));
        Assert.Equal(32 * 32L, FusedGateKernel.SourceSlots(32, 32, large.BackwardTiles));
    }

    /// <summary>The operator's scale enters through the marks: the gate and every gate gradient scale with it.</summary>
    [Fact]
    public void Kernel_loops_fold_the_scale_into_the_marks()
    {
        using var scope = NewDisposeScope();
        const int N = 2, x = 5, y = 3;
        const double scale = 0.37;
        var gates = GateWalkCases.RandomGates(9050, N, 4, x, y, "all");
        var (reference, weights) = GateWalkCases.RowScanReference(gates, N, x, y, 9051);
        var stacked = GateWalkCases.Stacked(gates, N, 4, x, y).detach();
        var flat = stacked.contiguous().data<double>().ToArray();
        var gate = FusedGateKernelMirror.Forward(flat, N, 4, x, y, scale);
        TensorAssert.AssertClose(tensor(gate, reference.shape, dtype: float64), reference * scale, "gate",
            Tolerances.Float64Rtol, Tolerances.Float64Atol);
        var dGates = tensor(FusedGateKernelMirror.Backward(flat, weights.contiguous().data<double>().ToArray(), N, 4, x, y, scale),
            stacked.shape, dtype: float64);
        for (int i = 0; i < 8; i++)
            TensorAssert.AssertClose(dGates.select(2, i), gates[i]!.grad! * scale, "d" + GateWalkCases.GateNames[i],
                Tolerances.Float64Rtol, Tolerances.Float64Atol);
    }

    /// <summary>One orientation (the layout's O = 1): the plain row-scan gate of orientation 0.</summary>
    [Fact]
    public void One_orientation_is_the_plain_row_scan_gate()
    {
        using var scope = NewDisposeScope();
        const int N = 2, x = 4, y = 6;
        using var generator = new Generator(9100);
        var gates = Enumerable.Range(0, 8)
            .Select(_ => rand(new long[] { N, x, y }, generator: generator, dtype: float64) * 1.6 - 0.8).ToArray();
        var reference = RowScanGate.Compute(gates[0], gates[1], gates[2], gates[3], gates[4], gates[5], gates[6], gates[7]);
        var flat = stack(gates, 1).contiguous().data<double>().ToArray();                  // [N, 8, X, Y] = [N, 1, 8, cells]
        var gate = FusedGateKernelMirror.Forward(flat, N, 1, x, y);
        TensorAssert.AssertClose(tensor(gate, reference.shape, dtype: float64), reference, "gate",
            Tolerances.Float64Rtol, Tolerances.Float64Atol);
    }

    /// <summary>One, two or three orientations (the layout's O): the forward pairs o with o | 2 only where both exist, and
    /// equals the walk one orientation at a time — which the tests above check against the row scan — on a grid of
    /// several warps of sources (their walks start at different lines), writing every entry: the lines before a warp's
    /// first source line are written by the x-reversed pair, or zeroed by the x-forward one where there is none (O = 1);
    /// one orientation at a time, orientation 0 zeroes them.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Forward_pairs_only_the_orientations_present(int orientations)
    {
        using var scope = NewDisposeScope();
        const int N = 2, x = 9, y = 7;
        using var generator = new Generator(9150);
        var flat = (rand(new long[] { N, orientations, 8, x * y }, generator: generator, dtype: float64) * 1.6 - 0.8)
            .contiguous().data<double>().ToArray();
        var paired = FusedGateKernelMirror.Forward(flat, N, orientations, x, y, pairs: true);
        var single = FusedGateKernelMirror.Forward(flat, N, orientations, x, y, pairs: false);
        TensorAssert.AssertClose(tensor(paired), tensor(single), "gate", Tolerances.Float64Rtol, Tolerances.Float64Atol);
        Assert.DoesNotContain(paired, double.IsNaN);
        Assert.DoesNotContain(single, double.IsNaN);
    }

    /// <summary>SMEM_PAIRS (the paired forward reading the walked pair's slots 2-7 from a shared-memory copy, the sources
    /// at the source's own cell): the copy's indexing and the staged cell update give the plain paired walk's 𝒢 to the
    /// bit, with every orientation count (an absent twin copied as zeros) and sources in several warps.</summary>
    [Theory]
    [InlineData(4, 9, 7)]
    [InlineData(3, 5, 6)]
    [InlineData(2, 1, 40)]
    [InlineData(1, 6, 1)]
    public void Forward_with_the_pairs_gates_copied_to_shared_memory_equals_the_plain_walk(int orientations, int x, int y)
    {
        using var scope = NewDisposeScope();
        const int N = 2;
        using var generator = new Generator((ulong)(9170 + orientations));
        var flat = (rand(new long[] { N, orientations, 8, x * y }, generator: generator, dtype: float64) * 1.6 - 0.8)
            .contiguous().data<double>().ToArray();
        var plain = FusedGateKernelMirror.Forward(flat, N, orientations, x, y, 0.7, pairs: true);
        var staged = FusedGateKernelMirror.Forward(flat, N, orientations, x, y, 0.7, pairs: true, stagedPairs: true);
        Assert.Equal(plain, staged);
    }

    [Fact]
    public void Kernel_refuses_cpu_tensors_and_large_grids_with_a_clear_error()
    {
        using var scope = NewDisposeScope();
        Assert.False(FusedGateKernel.CanRun(zeros(new long[] { 1, 4, 8, 3, 3 })));
        var error = Assert.Throws<ArgumentException>(() => FusedGateKernel.Gate(zeros(new long[] { 1, 4, 8, 3, 3 })));
        Assert.Equal("gates", error.ParamName);
        Assert.Contains("CUDA", error.Message, StringComparison.Ordinal);
        Assert.False(FusedGateKernel.CanRun(zeros(new long[] { 1, 4, 8, 33, 32 })));
    }

    /// <summary>Asked for on the CPU, the kernel form runs the CPU walk (<see cref="FusedGateCpuKernel"/>): the naive
    /// result, gradients included, in float64 and (another grid) float32.</summary>
    [Theory]
    [InlineData(4, 5, false)]
    [InlineData(7, 3, true)]
    public void Kernel_form_on_the_cpu_equals_naive(int x, int y, bool float32)
    {
        using var scope = NewDisposeScope();
        var inputs = RandomInputs.Fused(seed: 9200 + x, B: 2, X: x, Y: y, DK: 3, DV: 2, JDims.Scalar, withDl: true, withRu: true);
        Differentiate.Result Run(Plstm2DFusedInputs given, Plstm2DForm form) => Differentiate.Run(
            FusedOperatorTests.ToArray(given), a => new[] { Plstm2DFused.Forward(FusedOperatorTests.FromArray(a), form: form) });
        var walked = float32
            ? FusedOperatorTests.FromArray(FusedOperatorTests.ToArray(inputs).Select(t => t?.to(ScalarType.Float32)).ToArray())
            : inputs;
        FormComparison.AssertSame(Run(walked, Plstm2DForm.Kernel), Run(inputs, Plstm2DForm.Naive), new[] { "Y" },
            FusedOperatorTests.InputNames, float32: float32);
    }
}
