using System.Runtime.InteropServices;

namespace Plstm.Interop.Cuda;

/// <summary>
/// Finds a native library by trying names in order and then the folders of <c>LD_LIBRARY_PATH</c> and the usual CUDA
/// install folders for files matching a prefix (PyTorch's wheels ship <c>libnvrtc.so.12</c>/<c>.13</c> under
/// <c>site-packages/nvidia/*/lib</c>, which the GPU bundle's run script puts on the library path).
/// </summary>
internal static class NativeLibraryProbe
{
    /// <summary>The first of <paramref name="names"/> that loads, else the first file named
    /// <paramref name="filePrefix"/>* in the searched folders that loads; null when none does. An explicit path in the
    /// environment variable <paramref name="overrideVariable"/> is tried first.</summary>
    public static IntPtr Load(string overrideVariable, IEnumerable<string> names, string filePrefix)
    {
        var explicitPath = Environment.GetEnvironmentVariable(overrideVariable);
        if (!string.IsNullOrEmpty(explicitPath) && NativeLibrary.TryLoad(explicitPath, out var handle))
            return handle;
        foreach (var name in names)
            if (NativeLibrary.TryLoad(name, out handle))
                return handle;
        var folders = (Environment.GetEnvironmentVariable("LD_LIBRARY_PATH") ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(new[] { "/usr/local/cuda/lib64", "/usr/lib/x86_64-linux-gnu" })
            .Concat(SafeDirectories("/usr/local", "cuda*").Select(d => Path.Combine(d, "lib64")));
        foreach (var folder in folders.Where(Directory.Exists).Distinct())
        {
            // Newest first (libnvrtc.so.13 before .12); skip the builtins helper libraries.
            var candidates = SafeFiles(folder, filePrefix + "*")
                .Where(f => !Path.GetFileName(f).Contains("builtins", StringComparison.Ordinal))
                .OrderByDescending(f => f, StringComparer.Ordinal);
            foreach (var file in candidates)
                if (NativeLibrary.TryLoad(file, out handle))
                    return handle;
        }
        return IntPtr.Zero;
    }

    private static IEnumerable<string> SafeDirectories(string root, string pattern)
    {
        try { return Directory.Exists(root) ? Directory.GetDirectories(root, pattern) : Array.Empty<string>(); }
        catch (IOException) { return Array.Empty<string>(); }
        catch (UnauthorizedAccessException) { return Array.Empty<string>(); }
    }

    private static IEnumerable<string> SafeFiles(string folder, string pattern)
    {
        try { return Directory.GetFiles(folder, pattern); }
        catch (IOException) { return Array.Empty<string>(); }
        catch (UnauthorizedAccessException) { return Array.Empty<string>(); }
    }
}
