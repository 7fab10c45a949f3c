using System.Reflection;

namespace Plstm.Ops.TwoD;

/// <summary>
/// The CUDA sources of the 2D operator's runtime-compiled kernels, embedded from <c>Ops/TwoD/Kernels/*.cu</c> (logical
/// name <c>Plstm.Kernels.&lt;file&gt;</c>, see Plstm.csproj) and read once per kernel class.
/// </summary>
internal static class KernelSource
{
    /// <summary>The embedded <paramref name="file"/> (e.g. <c>fused_gate.cu</c>), or null when the assembly lacks it; when
    /// <paramref name="overrideVariable"/> names a set environment variable, the file at that path instead (a variant
    /// measured without a rebuild).</summary>
    public static string? Read(string file, string? overrideVariable = null)
    {
        var variant = overrideVariable is null ? null : Environment.GetEnvironmentVariable(overrideVariable);
        if (!string.IsNullOrEmpty(variant)) return File.ReadAllText(variant);
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Plstm.Kernels." + file);
        if (stream is null) return null;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
