using System.Runtime.InteropServices;
using System.Text;

namespace Plstm.Interop.Cuda;

/// <summary>
/// Runtime compilation of CUDA C++ with NVRTC (<c>libnvrtc.so.13/.12/…</c>, found on the library path, in the CUDA
/// install folders, or at the path in <c>PLSTM_NVRTC</c>). Compiles for the device's own architecture to a CUBIN and,
/// where this NVRTC does not know that architecture, to PTX of the newest virtual architecture it does know that the
/// device can run (the driver JIT-compiles it). <see cref="Available"/> is false where no NVRTC is installed.
/// </summary>
internal static unsafe class NvrtcCompiler
{
    private sealed class Api
    {
        public delegate* unmanaged<IntPtr*, byte*, byte*, int, byte**, byte**, int> CreateProgram;
        public delegate* unmanaged<IntPtr, int, byte**, int> CompileProgram;
        public delegate* unmanaged<IntPtr, nuint*, int> GetProgramLogSize;
        public delegate* unmanaged<IntPtr, byte*, int> GetProgramLog;
        public delegate* unmanaged<IntPtr, nuint*, int> GetCubinSize;
        public delegate* unmanaged<IntPtr, byte*, int> GetCubin;
        public delegate* unmanaged<IntPtr, nuint*, int> GetPtxSize;
        public delegate* unmanaged<IntPtr, byte*, int> GetPtx;
        public delegate* unmanaged<IntPtr*, int> DestroyProgram;
        public delegate* unmanaged<int*, int*, int> Version;
    }

    private static readonly Lazy<Api?> Functions = new(Load);

    /// <summary>True when an NVRTC library was found.</summary>
    public static bool Available => Functions.Value is not null;

    /// <summary>NVRTC's version, e.g. "13.0"; null when unavailable.</summary>
    public static string? Version
    {
        get
        {
            if (Functions.Value is not { } api) return null;
            int major, minor;
            return api.Version(&major, &minor) == 0 ? $"{major}.{minor}" : null;
        }
    }

    private static Api? Load()
    {
        var library = NativeLibraryProbe.Load("PLSTM_NVRTC",
            new[] { "libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2" }, "libnvrtc.so");
        if (library == IntPtr.Zero) return null;
        IntPtr Export(string name) => NativeLibrary.TryGetExport(library, name, out var p) ? p : IntPtr.Zero;
        var names = new[] { "nvrtcCreateProgram", "nvrtcCompileProgram", "nvrtcGetProgramLogSize", "nvrtcGetProgramLog",
            "nvrtcGetCUBINSize", "nvrtcGetCUBIN", "nvrtcGetPTXSize", "nvrtcGetPTX", "nvrtcDestroyProgram", "nvrtcVersion" };
        var p = names.Select(Export).ToArray();
        if (p.Any(x => x == IntPtr.Zero)) return null;
        return new Api
        {
            CreateProgram = (delegate* unmanaged<IntPtr*, byte*, byte*, int, byte**, byte**, int>)p[0],
            CompileProgram = (delegate* unmanaged<IntPtr, int, byte**, int>)p[1],
            GetProgramLogSize = (delegate* unmanaged<IntPtr, nuint*, int>)p[2],
            GetProgramLog = (delegate* unmanaged<IntPtr, byte*, int>)p[3],
            GetCubinSize = (delegate* unmanaged<IntPtr, nuint*, int>)p[4],
            GetCubin = (delegate* unmanaged<IntPtr, byte*, int>)p[5],
            GetPtxSize = (delegate* unmanaged<IntPtr, nuint*, int>)p[6],
            GetPtx = (delegate* unmanaged<IntPtr, byte*, int>)p[7],
            DestroyProgram = (delegate* unmanaged<IntPtr*, int>)p[8],
            Version = (delegate* unmanaged<int*, int*, int>)p[9],
        };
    }

    /// <summary>Compiles <paramref name="source"/> for a device of compute capability <paramref name="capability"/> with
    /// the given preprocessor definitions; returns a CUBIN or a PTX image for <see cref="CudaDriver.LoadKernels"/>.</summary>
    /// <exception cref="InvalidOperationException">No NVRTC, or the source does not compile (the message holds the log).</exception>
    public static byte[] Compile(string source, string name, (int Major, int Minor) capability,
        IReadOnlyDictionary<string, string> definitions)
    {
        var api = Functions.Value ?? throw new InvalidOperationException(
            "NVRTC (libnvrtc.so) is not available: install the CUDA toolkit's runtime compiler or set PLSTM_NVRTC to its path");
        var defines = definitions.Select(d => $"-D{d.Key}={d.Value}").ToList();
        string arch = $"{capability.Major}{capability.Minor}";
        string? firstLog = null;
        // The device's real architecture (CUBIN), else its virtual architecture (PTX), else older virtual ones that
        // this NVRTC may know (PTX runs on newer devices).
        var attempts = new List<(string Option, bool Cubin)> { ($"--gpu-architecture=sm_{arch}", true),
            ($"--gpu-architecture=compute_{arch}", false) };
        // Compared as numbers (capability 10.0 is "100", which sorts before "90" as text).
        int own = capability.Major * 10 + capability.Minor;
        attempts.AddRange(new[] { 90, 80, 75 }.Where(a => a < own)
            .Select(a => ($"--gpu-architecture=compute_{a}", false)));
        foreach (var (option, cubin) in attempts)
        {
            var options = new List<string>(defines) { option, "--std=c++17" };
            var (image, log) = CompileOnce(api, source, name, options, cubin);
            if (image is not null) return image;
            firstLog ??= log;
            // Only an unknown architecture is worth another attempt; a source error would repeat.
            if (!log.Contains("arch", StringComparison.OrdinalIgnoreCase)) break;
        }
        throw new InvalidOperationException($"NVRTC could not compile {name}: {firstLog?.Trim()}");
    }

    private static (byte[]? Image, string Log) CompileOnce(Api api, string source, string name, List<string> options, bool cubin)
    {
        IntPtr program;
        var src = Encoding.UTF8.GetBytes(source + "\0");
        var file = Encoding.UTF8.GetBytes(name + "\0");
        int created;
        fixed (byte* s = src)
        fixed (byte* f = file)
            created = api.CreateProgram(&program, s, f, 0, null, null);
        if (created != 0) return (null, $"nvrtcCreateProgram returned {created}");
        try
        {
            var encoded = options.Select(o => Marshal.StringToHGlobalAnsi(o)).ToArray();
            int compiled;
            try
            {
                var pointers = stackalloc byte*[encoded.Length];
                for (int i = 0; i < encoded.Length; i++) pointers[i] = (byte*)encoded[i];
                compiled = api.CompileProgram(program, encoded.Length, pointers);
            }
            finally
            {
                foreach (var p in encoded) Marshal.FreeHGlobal(p);
            }
            if (compiled != 0)
            {
                nuint size;
                api.GetProgramLogSize(program, &size);
                var log = new byte[(int)size];
                fixed (byte* l = log) api.GetProgramLog(program, l);
                return (null, $"({string.Join(' ', options)}) " + Encoding.UTF8.GetString(log).TrimEnd('\0'));
            }
            nuint length;
            if ((cubin ? api.GetCubinSize(program, &length) : api.GetPtxSize(program, &length)) != 0)
                return (null, "could not read the compiled image");
            var image = new byte[(int)length];
            fixed (byte* i = image)
                if ((cubin ? api.GetCubin(program, i) : api.GetPtx(program, i)) != 0)
                    return (null, "could not read the compiled image");
            return (image, "");
        }
        finally
        {
            api.DestroyProgram(&program);
        }
    }
}
