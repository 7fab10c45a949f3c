using Plstm.Ops.TwoD;
using Plstm.Tests.Support;

namespace Plstm.Tests.Ops;

/// <summary>
/// The fused four-orientation operator with <see cref="Plstm2DForm.Chunkwise"/> against the naive and hierarchical fused
/// forms: one chunk (the four flipped-back gates summed into one attention), chunks that tile the grid exactly (summed
/// gates plus per-orientation border reads) and ragged chunks (per-orientation scans), outputs and every gradient.
/// </summary>
public class FusedChunkwiseTests
{
    private static Differentiate.Result Run(Plstm2DFusedInputs inputs, Plstm2DForm form, int? chunkSide = null) =>
        Differentiate.Run(FusedOperatorTests.ToArray(inputs),
            a => new[] { Plstm2DFused.Forward(FusedOperatorTests.FromArray(a), 2, form: form, chunkSide: chunkSide) });

    [Theory]
    [InlineData(1, 1, 16, "all")]
    [InlineData(4, 4, 16, "all")]
    [InlineData(5, 3, 16, "DL")]
    [InlineData(16, 16, 16, "DR")]
    [InlineData(8, 8, 4, "all")]
    [InlineData(6, 9, 3, "DL")]
    [InlineData(5, 7, 4, "all")]
    [InlineData(2, 13, 4, "DR")]
    [InlineData(9, 1, 2, "straight")]
    public void Chunkwise_equals_naive_outputs_and_gradients(int x, int y, int chunkSide, string wiring)
    {
        using var scope = NewDisposeScope();
        var inputs = RandomInputs.Fused(seed: 60 + 7 * x + y, B: 2, X: x, Y: y, DK: 3, DV: 2, JDims.Scalar,
            withDl: wiring is "all" or "DR", withRu: wiring is "all" or "DL");
        FormComparison.AssertSame(Run(inputs, Plstm2DForm.Chunkwise, chunkSide), Run(inputs, Plstm2DForm.Naive),
            new[] { "Y" }, FusedOperatorTests.InputNames);
    }

    [Theory]
    [InlineData(14, 14, 16)]
    [InlineData(12, 12, 4)]
    [InlineData(11, 6, 4)]
    public void Chunkwise_equals_hierarchical_outputs_and_gradients(int x, int y, int chunkSide)
    {
        using var scope = NewDisposeScope();
        var inputs = RandomInputs.Fused(seed: 70 + x + y, B: 2, X: x, Y: y, DK: 4, DV: 3, JDims.Scalar, withDl: x % 2 == 0);
        FormComparison.AssertSame(Run(inputs, Plstm2DForm.Chunkwise, chunkSide), Run(inputs, Plstm2DForm.Hierarchical),
            new[] { "Y" }, FusedOperatorTests.InputNames);
    }

    [Fact]
    public void Chunkwise_float32_matches_float64_naive()
    {
        using var scope = NewDisposeScope();
        var inputs64 = RandomInputs.Fused(seed: 80, B: 2, X: 8, Y: 8, DK: 4, DV: 3, JDims.Scalar);
        var inputs32 = FusedOperatorTests.FromArray(FusedOperatorTests.ToArray(inputs64).Select(t => t?.to(float32)).ToArray());
        FormComparison.AssertSame(Run(inputs32, Plstm2DForm.Chunkwise, 8), Run(inputs64, Plstm2DForm.Naive),
            new[] { "Y" }, FusedOperatorTests.InputNames, float32: true);
    }

    [Fact]
    public void Chunkwise_with_mixed_J_falls_back_to_an_exact_form()
    {
        using var scope = NewDisposeScope();
        var inputs = RandomInputs.Fused(seed: 90, B: 1, X: 4, Y: 5, DK: 2, DV: 3, JDims.Mixed);
        FormComparison.AssertSame(Run(inputs, Plstm2DForm.Chunkwise, 4), Run(inputs, Plstm2DForm.Naive),
            new[] { "Y" }, FusedOperatorTests.InputNames);
    }

    [Fact]
    public void The_cuda_kernel_takes_any_grid_up_to_1024_cells_and_grids_up_to_64x64_with_lines_of_at_most_64()
    {
        Assert.True(FusedGateKernel.TakesGrid(1, 1));
        Assert.True(FusedGateKernel.TakesGrid(1, 1024));
        Assert.True(FusedGateKernel.TakesGrid(32, 32));
        Assert.True(FusedGateKernel.TakesGrid(64, 64));
        Assert.True(FusedGateKernel.TakesGrid(65, 63));
        Assert.True(FusedGateKernel.TakesGrid(4096, 1));
        Assert.False(FusedGateKernel.TakesGrid(2, 1000));      // 2,000 cells on lines of 1,000
        Assert.False(FusedGateKernel.TakesGrid(63, 65));
        Assert.False(FusedGateKernel.TakesGrid(64, 65));
        Assert.False(FusedGateKernel.TakesGrid(0, 5));
    }

    [Fact]
    public void Auto_picks_kernel_or_rowscan_then_chunkwise_for_scalar_gates_and_hierarchical_otherwise()
    {
        Assert.Equal(Plstm2DForm.Kernel, Plstm2DAutoForm.Choose(true, 8, 8, DeviceType.CPU));
        Assert.Equal(Plstm2DForm.Kernel, Plstm2DAutoForm.Choose(true, 16, 16, DeviceType.CPU));
        Assert.Equal(Plstm2DForm.Kernel, Plstm2DAutoForm.Choose(true, 32, 32, DeviceType.CUDA));
        Assert.Equal(Plstm2DForm.Kernel, Plstm2DAutoForm.Choose(true, 14, 14, DeviceType.CUDA));
        Assert.Equal(Plstm2DForm.Kernel, Plstm2DAutoForm.Choose(true, 32, 32, DeviceType.CPU));
        Assert.Equal(Plstm2DForm.Kernel, Plstm2DAutoForm.Choose(true, 64, 16, DeviceType.CPU));
        Assert.Equal(Plstm2DForm.Kernel, Plstm2DAutoForm.Choose(true, 64, 64, DeviceType.CPU));
        Assert.Equal(Plstm2DForm.Chunkwise, Plstm2DAutoForm.Choose(true, 65, 64, DeviceType.CPU));
        // Above 1,024 cells CUDA takes the kernel only where it can run (a driver with NVRTC), else the hierarchical form.
        var largeCuda = FusedGateKernel.UnavailableReason is null ? Plstm2DForm.Kernel : Plstm2DForm.Hierarchical;
        Assert.Equal(largeCuda, Plstm2DAutoForm.Choose(true, 64, 64, DeviceType.CUDA));
        Assert.Equal(largeCuda, Plstm2DAutoForm.Choose(true, 65, 63, DeviceType.CUDA));
        Assert.Equal(Plstm2DForm.Hierarchical, Plstm2DAutoForm.Choose(true, 63, 65, DeviceType.CUDA));   // lines > 64
        Assert.Equal(Plstm2DForm.Hierarchical, Plstm2DAutoForm.Choose(true, 65, 64, DeviceType.CUDA));   // > 4,096 cells
        Assert.Equal(Plstm2DForm.Hierarchical, Plstm2DAutoForm.Choose(false, 16, 16, DeviceType.CPU));
        Assert.Equal(Plstm2DForm.Kernel, Plstm2DAutoForm.Choose(true, 1, 1024, DeviceType.CUDA));
        Assert.Equal(Plstm2DForm.Naive, Plstm2DAutoForm.Resolve(Plstm2DForm.Naive, true, 16, 16, DeviceType.CPU));
        // One chunk up to the single-chunk side, smaller chunks beyond.
        Assert.Equal(Plstm2DAutoForm.CpuSingleChunkMaxSide, Plstm2DAutoForm.ChunkSide(14, 3, DeviceType.CPU));
        Assert.Equal(Plstm2DAutoForm.CpuChunkSide, Plstm2DAutoForm.ChunkSide(32, 32, DeviceType.CPU));
    }
}
