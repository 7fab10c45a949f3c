using System.Collections.Concurrent;
using Plstm.Interop.Cuda;

namespace Plstm.Ops.TwoD;

/// <summary>
/// The kernels of one runtime-compiled CUDA source (<c>Kernels/*.cu</c>, <see cref="KernelSource"/>): compiled by NVRTC for
/// a device's architecture with the compiler definitions of a key (dtype, grid, widths…), loaded through the driver, and
/// cached per (device, key) for the process. A build that fails is cached too, with what NVRTC or the driver said, so it
/// is not retried on every call. One instance per kernel class (static), shared by all threads.
/// </summary>
/// <typeparam name="TKey">What the compiled code depends on besides the device.</typeparam>
internal sealed class KernelCache<TKey> where TKey : notnull
{
    private readonly string file;
    private readonly string[] names;
    private readonly Func<TKey, Dictionary<string, string>> definitions;
    private readonly Action<IntPtr[], TKey>? loaded;
    private readonly Lazy<string?> source;
    private readonly ConcurrentDictionary<(int Device, TKey Key), Lazy<(IntPtr[]? Kernels, string? Error)>> built = new();

    /// <param name="file">The embedded source's file name, e.g. <c>fused_gate.cu</c>.</param>
    /// <param name="overrideVariable">An environment variable naming a variant of the source to compile instead (for
    /// measurements without a rebuild), or null.</param>
    /// <param name="names">The kernels' names, in the order <see cref="On"/> returns their handles.</param>
    /// <param name="definitions">The compiler definitions (<c>-D</c>) for a key.</param>
    /// <param name="loaded">Called once per build with the loaded kernels (e.g. to allow them more shared memory).</param>
    public KernelCache(string file, string? overrideVariable, string[] names, Func<TKey, Dictionary<string, string>> definitions,
        Action<IntPtr[], TKey>? loaded = null)
    {
        this.file = file;
        this.names = names;
        this.definitions = definitions;
        this.loaded = loaded;
        source = new Lazy<string?>(() => KernelSource.Read(file, overrideVariable));
    }

    /// <summary>The source text, or null when the assembly lacks it.</summary>
    public string? Source => source.Value;

    /// <summary>Makes <paramref name="device"/>'s context current on this thread (−1: device 0) and returns its kernels for
    /// <paramref name="key"/>, built on first use.</summary>
    /// <exception cref="InvalidOperationException">The kernels do not build here (the message says why).</exception>
    public IntPtr[] On(int device, TKey key)
    {
        var (kernels, error) = Build(device, key);
        return kernels ?? throw new InvalidOperationException($"the kernels of {file} do not build on this device: {error}");
    }

    /// <summary>Like <see cref="On"/>, but returns why the kernels do not build (null when they do) instead of throwing.</summary>
    public string? BuildError(int device, TKey key) => Build(device, key).Error;

    private (IntPtr[]? Kernels, string? Error) Build(int device, TKey key)
    {
        int index = device < 0 ? 0 : device;
        CudaDriver.MakeCurrent(index);
        return built.GetOrAdd((index, key), entry => new Lazy<(IntPtr[]?, string?)>(() =>
        {
            try
            {
                return (Compile(entry.Device, entry.Key), null);
            }
            catch (InvalidOperationException e)
            {
                return (null, e.Message);
            }
        })).Value;
    }

    private IntPtr[] Compile(int device, TKey key)
    {
        var text = Source ?? throw new InvalidOperationException($"the kernel source {file} is missing from the assembly");
        var image = NvrtcCompiler.Compile(text, file, CudaDriver.ComputeCapability(device), definitions(key));
        var kernels = CudaDriver.LoadKernels(image, names);
        loaded?.Invoke(kernels, key);
        return kernels;
    }
}
