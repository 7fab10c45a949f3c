using Plstm.Interop;

namespace Plstm.Tests.Models;

/// <summary>
/// libtorch's float32 CPU convolution must return finite values for finite inputs at any data alignment. On AVX-512
/// CPUs its oneDNN kernels did not (<see cref="OneDnnIsaGuard"/>, which this test checks: without the guard it failed
/// in 3 of 3 runs on the AMD EPYC build machine, with it in none).
/// </summary>
public class ConvolutionFinitenessTests
{
    [Fact]
    public void Float32_convolution_with_gradients_is_finite_at_every_input_alignment()
    {
        // Loading the library applied the guard (module initializer); touching it makes sure it is loaded.
        Assert.True(OneDnnIsaGuard.Applied || OneDnnIsaGuard.SkippedBecause is not null);
        var bad = new List<string>();
        using var generator = new Generator(5);
        var weight = (randn(new long[] { 48, 24, 3, 3 }, generator: generator) * 0.05).requires_grad_(true);
        var bias = (randn(new long[] { 48 }, generator: generator) * 0.05).requires_grad_(true);
        long n = 8 * 24 * 16 * 16;
        for (int trial = 0; trial < 400; trial++)
        {
            using var scope = NewDisposeScope();
            int offset = trial % 32;                                  // the input's first float, past a 128-byte boundary
            var storage = rand(new long[] { n + 64 }, generator: generator);
            var x = storage.narrow(0, offset, n).view(8, 24, 16, 16).requires_grad_(true);
            var y = nn.functional.conv2d(x, weight, bias, padding: new long[] { 1, 1 });
            y.sum().backward();
            if (!y.isfinite().all().item<bool>()) bad.Add($"trial {trial}, offset {offset}");
            // Churn the allocator as a training step does, so that stale memory holds non-finite values.
            foreach (var i in Enumerable.Range(0, 8)) full(new long[] { 4096 + 97 * i }, float.NaN);
        }
        Assert.True(bad.Count == 0, $"non-finite convolution outputs ({OneDnnIsaGuard.SkippedBecause ?? "guard applied"}): "
            + string.Join("; ", bad.Take(10)));
    }

    [Fact]
    public void The_guard_limits_onednn_to_avx2_in_the_native_environment_on_avx512_machines()
    {
        OneDnnIsaGuard.Apply();
        if (OneDnnIsaGuard.Applied)
            Assert.Equal(OneDnnIsaGuard.IsaValue, OneDnnIsaGuard.NativeValue(OneDnnIsaGuard.IsaVariable));
        else
            Assert.False(string.IsNullOrEmpty(OneDnnIsaGuard.SkippedBecause));
        if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported && OperatingSystem.IsLinux()
            && Environment.GetEnvironmentVariable(OneDnnIsaGuard.SwitchVariable) != "0"
            && Environment.GetEnvironmentVariable(OneDnnIsaGuard.IsaVariable) is null
            && Environment.GetEnvironmentVariable("DNNL_MAX_CPU_ISA") is null)
            Assert.True(OneDnnIsaGuard.Applied, OneDnnIsaGuard.SkippedBecause);
    }
}
