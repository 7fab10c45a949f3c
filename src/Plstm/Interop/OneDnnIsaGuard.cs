using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Plstm.Interop;

/// <summary>
/// Keeps libtorch's CPU convolutions (oneDNN) off their AVX-512 kernels, which return non-finite values for some
/// inputs: seen with the CPU libtorch 2.10 of TorchSharp 0.107 on an AMD EPYC (Zen 4, AVX-512) — a float32 3×3
/// convolution with gradients on an input whose data starts 2 or 3 floats past an alignment boundary gave NaN/∞ outputs
/// from finite inputs and weights (`ConvolutionFinitenessTests`; in training, the conv stem of <c>ape-small</c> turned the
/// loss NaN in 2–6 of 30 three-step runs, nondeterministically because tensor addresses vary). With
/// <c>ONEDNN_MAX_CPU_ISA=AVX2</c>: 0 of 90 runs, and the test passes.
/// </summary>
/// <remarks>
/// Applied once per process, before the first convolution, by this assembly's module initializer: on Linux x64 CPUs
/// with AVX-512 it sets <c>ONEDNN_MAX_CPU_ISA=AVX2</c> in the native environment (oneDNN reads it when it first
/// dispatches). Left alone: a value the user set (<c>ONEDNN_MAX_CPU_ISA</c> or <c>DNNL_MAX_CPU_ISA</c>), other systems,
/// and <c>PLSTM_ONEDNN_GUARD=0</c>. The price is AVX2 speed for CPU convolutions (patch embeddings, conv stems, causal
/// 1D convolutions); matrix products do not go through oneDNN's ISA dispatch for float32. CUDA is unaffected. Turning
/// oneDNN off for convolutions instead (libtorch's <c>setUserEnabledMkldnn(false)</c>, im2col + GEMM) was slower: a
/// 100-step <c>ape-small</c> run took 0.295–0.307 s per pLSTM step against 0.266–0.278 with AVX2 kernels.
/// </remarks>
public static class OneDnnIsaGuard
{
    /// <summary>oneDNN's ISA limit variable.</summary>
    public const string IsaVariable = "ONEDNN_MAX_CPU_ISA";

    /// <summary>The value set: AVX2 kernels.</summary>
    public const string IsaValue = "AVX2";

    /// <summary>Set to <c>0</c> to keep oneDNN's own choice.</summary>
    public const string SwitchVariable = "PLSTM_ONEDNN_GUARD";

    private static int _done;

    /// <summary>True when this process set <see cref="IsaVariable"/>.</summary>
    public static bool Applied { get; private set; }

    /// <summary>Why the guard did nothing (null when it applied or has not run).</summary>
    public static string? SkippedBecause { get; private set; }

#pragma warning disable CA2255 // A library-wide guard: it must run before the first libtorch convolution of any caller.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void OnLoad() => Apply();

    /// <summary>Applies the guard (idempotent; see the class remarks for when it does nothing).</summary>
    public static void Apply()
    {
        if (Interlocked.Exchange(ref _done, 1) == 1) return;
        if (Environment.GetEnvironmentVariable(SwitchVariable) == "0") { SkippedBecause = $"{SwitchVariable}=0"; return; }
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            SkippedBecause = "not Linux x64";
            return;
        }
        if (Environment.GetEnvironmentVariable(IsaVariable) is not null || Environment.GetEnvironmentVariable("DNNL_MAX_CPU_ISA") is not null)
        {
            SkippedBecause = "the oneDNN ISA limit is set by the user";
            return;
        }
        if (!Avx512F.IsSupported) { SkippedBecause = "no AVX-512"; return; }
        try
        {
            // .NET's Environment.SetEnvironmentVariable does not reach the native environment on Unix: libc's setenv does.
            Applied = SetEnv(IsaVariable, IsaValue, 0) == 0;
            if (!Applied) SkippedBecause = "setenv failed";
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            SkippedBecause = "no libc setenv";
        }
    }

    /// <summary>The native (libc) value of <paramref name="name"/>, or null.</summary>
    public static string? NativeValue(string name)
    {
        if (!OperatingSystem.IsLinux()) return Environment.GetEnvironmentVariable(name);
        var pointer = GetEnv(name);
        return pointer == IntPtr.Zero ? null : Marshal.PtrToStringAnsi(pointer);
    }

    [DllImport("libc", EntryPoint = "setenv", CharSet = CharSet.Ansi)]
    private static extern int SetEnv(string name, string value, int overwrite);

    [DllImport("libc", EntryPoint = "getenv", CharSet = CharSet.Ansi)]
    private static extern IntPtr GetEnv(string name);
}
