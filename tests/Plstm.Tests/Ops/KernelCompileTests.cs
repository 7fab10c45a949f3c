using Plstm.Interop.Cuda;
using Plstm.Ops.TwoD;
using TorchSharp;

namespace Plstm.Tests.Ops;

/// <summary>
/// Every runtime-compiled CUDA source compiles with NVRTC for the definitions its C# host passes (taken from the hosts
/// themselves: a renamed or missing define fails here), for several grids, both dtypes and both chiralities — on a
/// machine without a GPU, since NVRTC needs none. The CPU suite never runs the kernels, so without this a typo in a
/// kernel would surface only on a GPU. Runs where NVRTC is installed (`.ci/run` installs Debian's libnvrtc11.2 and sets
/// <c>PLSTM_REQUIRE_NVRTC=1</c>, which makes a missing NVRTC a failure); elsewhere it only checks that it was not
/// required. Compiled for compute capability 8.0, which every NVRTC since 11.1 knows.
/// </summary>
public class KernelCompileTests
{
    private static readonly (int Major, int Minor) Capability = (8, 0);

    private static IEnumerable<(string File, string Label, Dictionary<string, string> Definitions)> Cases()
    {
        var grids = new (long X, long Y)[] { (1, 1), (5, 7), (14, 14), (16, 64), (32, 32) };
        foreach (var type in new[] { ScalarType.Float32, ScalarType.Float64 })
            foreach (var (x, y) in grids)
            {
                yield return ("fused_gate.cu", $"{type} {x}x{y}", FusedGateKernel.Definitions((type, x, y)));
                // With source tiles in both kernels and in neither, where the host would pass them (PLSTM_WALK_TILES);
                // the default above passes them for the forward alone above 576 cells.
                var tiles = FusedGateKernel.TilesFor(x, y, (4, 8));
                if (tiles.Lines > 0)
                    yield return ("fused_gate.cu", $"{type} {x}x{y} tiles 4x8 both kernels",
                        FusedGateKernel.Definitions((type, x, y), new FusedGateKernel.WalkTiling(tiles, Backward: true)));
                if (FusedGateKernel.DefaultTiling(x, y).Tiles.Lines > 0)
                    yield return ("fused_gate.cu", $"{type} {x}x{y} no tiles",
                        FusedGateKernel.Definitions((type, x, y), FusedGateKernel.WalkTiling.None));
                foreach (bool left in new[] { false, true })
                    yield return ("single_path_gate.cu", $"{type} {x}x{y} {(left ? "L" : "R")}",
                        SinglePathGateKernel.Definitions((type, x, y, left)));
                // One target per forward block (the kernel's own default; PLSTM_SINGLE_PATH_TARGETS=1).
                yield return ("single_path_gate.cu", $"{type} {x}x{y} R, 1 target per block",
                    SinglePathGateKernel.Definitions((type, x, y, false), 1));
            }
        foreach (long width in new long[] { 8, 16, 64 })
            foreach (int tile in new[] { 16, 32 })                               // both backward tiles the host picks
                foreach (var precision in Enum.GetValues<MaskedAttentionPrecision>())
                    yield return ("masked_attention.cu", $"DK = DV = {width}, backward tile {tile}, {precision}",
                        MaskedAttentionKernel.Definitions((width, width, tile, precision)));
        foreach (var real in new[] { "float", "double" })
            yield return ("gate_activation.cu", real, new Dictionary<string, string> { ["REAL"] = real });
        yield return ("rms_norm.cu", "", new Dictionary<string, string>());
        foreach (int width in new[] { 1, 31, 192, 1024 })                       // 1024: ScaledRmsNormKernel.MaxWidth
            yield return ("rms_norm_rows.cu", $"width {width}", Plstm.Ops.Common.ScaledRmsNormKernel.Definitions(width));
    }

    [Fact]
    public void Every_kernel_source_compiles_with_nvrtc_for_the_definitions_its_host_passes()
    {
        bool required = Environment.GetEnvironmentVariable("PLSTM_REQUIRE_NVRTC") == "1";
        if (!NvrtcCompiler.Available)
        {
            Assert.False(required, "PLSTM_REQUIRE_NVRTC=1 but no NVRTC (libnvrtc.so*) was found");
            return;
        }
        var failures = new List<string>();
        int compiled = 0;
        foreach (var (file, label, definitions) in Cases())
        {
            var source = KernelSource.Read(file);
            Assert.NotNull(source);
            try
            {
                var image = NvrtcCompiler.Compile(source, file, Capability, definitions);
                Assert.NotEmpty(image);
                compiled++;
            }
            catch (InvalidOperationException e)
            {
                failures.Add($"{file} ({label}): {e.Message}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(compiled >= 30, $"only {compiled} compiles ran");
    }
}
