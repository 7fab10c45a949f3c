using System.Runtime.InteropServices;

namespace Plstm.Interop.Cuda;

/// <summary>
/// The few entry points of the CUDA driver API (<c>libcuda.so.1</c>) that running a runtime-compiled kernel on
/// libtorch's tensors needs: the device's primary context (the one libtorch's runtime API uses), module loading and
/// kernel launch. Looked up once; <see cref="Available"/> is false where there is no driver (every CPU-only machine).
/// </summary>
/// <remarks>
/// Launches go to the legacy default stream (stream 0), the stream libtorch uses unless a caller switches streams
/// (TorchSharp 0.107 has no stream API), so a kernel is ordered after the libtorch work that produced its inputs and
/// before the work that reads its outputs, and the caching allocator's stream-ordered reuse stays safe. The one
/// exception is a <see cref="StreamFork"/>: kernels that may run alongside later legacy-stream work go to a side stream
/// between explicit events. Before each launch the primary context is made current on the calling thread: autograd runs
/// CUDA backward functions on its own worker thread.
/// </remarks>
internal static unsafe class CudaDriver
{
    private const int ComputeCapabilityMajor = 75;   // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
    private const int ComputeCapabilityMinor = 76;   // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR
    private const int SharedMemoryPerBlockOptin = 97; // CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN
    private const int MaxDynamicSharedSizeBytes = 8;  // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
    private const int PreferredSharedMemoryCarveout = 9;  // CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT
    private const int LocalSizeBytes = 3;             // CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES
    private const int NumRegisters = 4;               // CU_FUNC_ATTRIBUTE_NUM_REGS

    private sealed class Api
    {
        public delegate* unmanaged<uint, int> Init;
        public delegate* unmanaged<int*, int, int> DeviceGet;
        public delegate* unmanaged<int*, int, int, int> DeviceGetAttribute;
        public delegate* unmanaged<IntPtr*, int, int> DevicePrimaryCtxRetain;
        public delegate* unmanaged<IntPtr, int> CtxSetCurrent;
        public delegate* unmanaged<IntPtr*, byte*, int> ModuleLoadData;
        public delegate* unmanaged<IntPtr*, IntPtr, byte*, int> ModuleGetFunction;
        public delegate* unmanaged<IntPtr, uint, uint, uint, uint, uint, uint, uint, IntPtr, void**, void**, int> LaunchKernel;
        public delegate* unmanaged<int, byte**, int> GetErrorName;
        public delegate* unmanaged<IntPtr, int, int, int> FuncSetAttribute;
        public delegate* unmanaged<int*, int, IntPtr, int> FuncGetAttribute;
        public delegate* unmanaged<IntPtr*, uint, int> StreamCreate;
        public delegate* unmanaged<IntPtr*, uint, int> EventCreate;
        public delegate* unmanaged<IntPtr, IntPtr, int> EventRecord;
        public delegate* unmanaged<IntPtr, IntPtr, uint, int> StreamWaitEvent;
        public delegate* unmanaged<IntPtr, int> EventDestroy;
    }

    private static readonly Lazy<Api?> Functions = new(Load);
    private static readonly Dictionary<int, IntPtr> Contexts = new();

    /// <summary>True when the CUDA driver library loaded and initialised.</summary>
    public static bool Available => Functions.Value is not null;

    private static Api? Load()
    {
        var library = NativeLibraryProbe.Load("PLSTM_LIBCUDA", new[] { "libcuda.so.1", "libcuda.so" }, "libcuda.so");
        if (library == IntPtr.Zero) return null;
        IntPtr Export(string name) => NativeLibrary.TryGetExport(library, name, out var p) ? p : IntPtr.Zero;
        var names = new[] { "cuInit", "cuDeviceGet", "cuDeviceGetAttribute", "cuDevicePrimaryCtxRetain", "cuCtxSetCurrent",
            "cuModuleLoadData", "cuModuleGetFunction", "cuLaunchKernel", "cuGetErrorName", "cuFuncSetAttribute",
            "cuFuncGetAttribute", "cuStreamCreate", "cuEventCreate", "cuEventRecord", "cuStreamWaitEvent",
            "cuEventDestroy_v2" };
        var pointers = names.Select(Export).ToArray();
        if (pointers.Any(p => p == IntPtr.Zero)) return null;
        var api = new Api
        {
            Init = (delegate* unmanaged<uint, int>)pointers[0],
            DeviceGet = (delegate* unmanaged<int*, int, int>)pointers[1],
            DeviceGetAttribute = (delegate* unmanaged<int*, int, int, int>)pointers[2],
            DevicePrimaryCtxRetain = (delegate* unmanaged<IntPtr*, int, int>)pointers[3],
            CtxSetCurrent = (delegate* unmanaged<IntPtr, int>)pointers[4],
            ModuleLoadData = (delegate* unmanaged<IntPtr*, byte*, int>)pointers[5],
            ModuleGetFunction = (delegate* unmanaged<IntPtr*, IntPtr, byte*, int>)pointers[6],
            LaunchKernel = (delegate* unmanaged<IntPtr, uint, uint, uint, uint, uint, uint, uint, IntPtr, void**, void**, int>)pointers[7],
            GetErrorName = (delegate* unmanaged<int, byte**, int>)pointers[8],
            FuncSetAttribute = (delegate* unmanaged<IntPtr, int, int, int>)pointers[9],
            FuncGetAttribute = (delegate* unmanaged<int*, int, IntPtr, int>)pointers[10],
            StreamCreate = (delegate* unmanaged<IntPtr*, uint, int>)pointers[11],
            EventCreate = (delegate* unmanaged<IntPtr*, uint, int>)pointers[12],
            EventRecord = (delegate* unmanaged<IntPtr, IntPtr, int>)pointers[13],
            StreamWaitEvent = (delegate* unmanaged<IntPtr, IntPtr, uint, int>)pointers[14],
            EventDestroy = (delegate* unmanaged<IntPtr, int>)pointers[15],
        };
        return api.Init(0) == 0 ? api : null;
    }

    private static Api Require() =>
        Functions.Value ?? throw new InvalidOperationException("the CUDA driver (libcuda.so.1) is not available on this machine");

    private static void Check(int result, string call)
    {
        if (result == 0) return;
        string name = $"error {result}";
        var api = Functions.Value;
        if (api is not null)
        {
            byte* text = null;
            if (api.GetErrorName(result, &text) == 0 && text != null)
                name = Marshal.PtrToStringAnsi((IntPtr)text) ?? name;
        }
        throw new InvalidOperationException($"CUDA driver call {call} failed: {name}");
    }

    /// <summary>Makes device <paramref name="device"/>'s primary context current on this thread (retained once per
    /// device and kept for the process).</summary>
    public static void MakeCurrent(int device)
    {
        var api = Require();
        IntPtr context;
        lock (Contexts)
        {
            if (!Contexts.TryGetValue(device, out context))
            {
                int handle;
                Check(api.DeviceGet(&handle, device), "cuDeviceGet");
                Check(api.DevicePrimaryCtxRetain(&context, handle), "cuDevicePrimaryCtxRetain");
                Contexts[device] = context;
            }
        }
        Check(api.CtxSetCurrent(context), "cuCtxSetCurrent");
    }

    /// <summary>The compute capability (major, minor) of device <paramref name="device"/>.</summary>
    public static (int Major, int Minor) ComputeCapability(int device)
    {
        var api = Require();
        int handle, major, minor;
        Check(api.DeviceGet(&handle, device), "cuDeviceGet");
        Check(api.DeviceGetAttribute(&major, ComputeCapabilityMajor, handle), "cuDeviceGetAttribute");
        Check(api.DeviceGetAttribute(&minor, ComputeCapabilityMinor, handle), "cuDeviceGetAttribute");
        return (major, minor);
    }

    /// <summary>The most shared memory (bytes) one block of a kernel on device <paramref name="device"/> may use once the
    /// kernel has opted in (<see cref="AllowSharedMemory"/>): 227 KiB on Hopper, 163 KiB on the A100, 99 KiB on most
    /// consumer cards.</summary>
    public static int MaxSharedMemoryPerBlock(int device)
    {
        var api = Require();
        int handle, bytes;
        Check(api.DeviceGet(&handle, device), "cuDeviceGet");
        Check(api.DeviceGetAttribute(&bytes, SharedMemoryPerBlockOptin, handle), "cuDeviceGetAttribute");
        return bytes;
    }

    /// <summary>Lets <paramref name="kernel"/> use up to <paramref name="bytes"/> of dynamic shared memory per block (the
    /// driver refuses launches above 48 KiB without this opt-in).</summary>
    public static void AllowSharedMemory(IntPtr kernel, int bytes)
    {
        var api = Require();
        Check(api.FuncSetAttribute(kernel, MaxDynamicSharedSizeBytes, bytes), "cuFuncSetAttribute");
    }

    /// <summary>Asks the driver to give <paramref name="kernel"/>'s multiprocessors the largest shared-memory share of
    /// their L1/shared storage (a hint: without it the driver may pick a share that fits one block of a kernel with tens
    /// of KiB of shared memory per multiprocessor). Returns whether the driver took it; a refusal (a device without a
    /// configurable share) changes nothing else, so it is not an error.</summary>
    public static bool PreferSharedMemory(IntPtr kernel) =>
        Require().FuncSetAttribute(kernel, PreferredSharedMemoryCarveout, 100) == 0;

    /// <summary>Registers per thread and local memory per thread (bytes) of a loaded kernel. The driver reserves local
    /// memory for every thread the device can hold at once, so a kernel with much of it costs device memory beyond its
    /// tensors (e.g. 32 KiB · 2,048 threads · 132 multiprocessors ≈ 8.6 GiB on an H200).</summary>
    public static (int Registers, int LocalBytes) Resources(IntPtr kernel)
    {
        var api = Require();
        int registers, local;
        Check(api.FuncGetAttribute(&registers, NumRegisters, kernel), "cuFuncGetAttribute");
        Check(api.FuncGetAttribute(&local, LocalSizeBytes, kernel), "cuFuncGetAttribute");
        return (registers, local);
    }

    /// <summary>Loads a CUBIN or PTX image into the current context and returns the named kernels.</summary>
    public static IntPtr[] LoadKernels(byte[] image, IReadOnlyList<string> names)
    {
        var api = Require();
        IntPtr module;
        // PTX must be NUL-terminated; a CUBIN is read by its header, the extra byte is harmless.
        var terminated = new byte[image.Length + 1];
        image.CopyTo(terminated, 0);
        fixed (byte* data = terminated)
            Check(api.ModuleLoadData(&module, data), "cuModuleLoadData");
        var result = new IntPtr[names.Count];
        for (int i = 0; i < names.Count; i++)
        {
            var name = System.Text.Encoding.ASCII.GetBytes(names[i] + "\0");
            IntPtr function;
            fixed (byte* n = name)
                Check(api.ModuleGetFunction(&function, module, n), $"cuModuleGetFunction({names[i]})");
            result[i] = function;
        }
        return result;
    }

    /// <summary>Launches <paramref name="kernel"/> with the given grid, block and argument pointers (each pointing at the
    /// argument's value) and <paramref name="sharedBytes"/> of dynamic shared memory per block, on the legacy default
    /// stream — or, inside a <see cref="StreamFork.Side"/> scope on this thread, on the fork's side stream.</summary>
    public static void Launch(IntPtr kernel, (uint X, uint Y, uint Z) grid, uint block, void** arguments, uint sharedBytes = 0)
    {
        var api = Require();
        Check(api.LaunchKernel(kernel, grid.X, grid.Y, grid.Z, block, 1, 1, sharedBytes, _stream, arguments, null),
            "cuLaunchKernel");
    }

    private const uint StreamNonBlocking = 1;   // CU_STREAM_NON_BLOCKING: no implicit ordering with the legacy stream
    private const uint EventDisableTiming = 2;  // CU_EVENT_DISABLE_TIMING

    /// <summary>The stream <see cref="Launch"/> uses on this thread: zero (the legacy default stream) outside a side
    /// scope.</summary>
    [ThreadStatic] private static IntPtr _stream;
    private static readonly Dictionary<int, IntPtr> SideStreams = new();

    /// <summary>Whether <c>PLSTM_OVERLAP=off</c> turned forks off (read once): <see cref="CanFork"/> is then false and
    /// callers run their side work in order on the legacy stream (for measurements and as a way out).</summary>
    private static readonly bool OverlapOff = RunTimeSwitch.Is("PLSTM_OVERLAP", "off");

    /// <summary>Whether <see cref="Fork"/> may be called: the driver loaded and forks not turned off.</summary>
    public static bool CanFork => !OverlapOff && Available;

    /// <summary>Forks device <paramref name="device"/>'s legacy default stream: a side stream (one per device, created
    /// on first use, non-blocking) waits for everything enqueued on the legacy stream so far; kernels launched inside
    /// <see cref="StreamFork.Side"/> then run alongside what is launched on the legacy stream afterwards, until
    /// <see cref="StreamFork.Join"/> makes the legacy stream wait for them. Check <see cref="CanFork"/> first.</summary>
    /// <remarks>Only this class's launches follow the side scope: libtorch operations always go to the legacy stream.
    /// Memory the side kernels use must therefore be allocated before the fork and released only after the join (the
    /// caching allocator hands a released block to the next legacy-stream allocation at once).</remarks>
    public static StreamFork Fork(int device)
    {
        var api = Require();
        MakeCurrent(device);
        IntPtr side;
        lock (SideStreams)
        {
            if (!SideStreams.TryGetValue(device, out side))
            {
                Check(api.StreamCreate(&side, StreamNonBlocking), "cuStreamCreate");
                SideStreams[device] = side;
            }
        }
        IntPtr forked, joined;
        Check(api.EventCreate(&forked, EventDisableTiming), "cuEventCreate");
        Check(api.EventCreate(&joined, EventDisableTiming), "cuEventCreate");
        Check(api.EventRecord(forked, IntPtr.Zero), "cuEventRecord");
        Check(api.StreamWaitEvent(side, forked, 0), "cuStreamWaitEvent");
        return new StreamFork(side, forked, joined);
    }

    /// <summary>A fork of the legacy stream (<see cref="CudaDriver.Fork(int)"/>): <see cref="Side"/> scopes for the side
    /// launches, then one <see cref="Join"/>.</summary>
    public sealed class StreamFork
    {
        private readonly IntPtr _side, _forked, _joined;
        private bool _joinedAlready;

        internal StreamFork(IntPtr side, IntPtr forked, IntPtr joined) => (_side, _forked, _joined) = (side, forked, joined);

        /// <summary>Launches on this thread go to the side stream until the scope ends.</summary>
        public IDisposable Side() => new SideScope(_side);

        /// <summary>Makes the legacy stream wait for everything launched on the side stream so far (idempotent).</summary>
        public void Join()
        {
            if (_joinedAlready) return;
            _joinedAlready = true;
            var api = Require();
            Check(api.EventRecord(_joined, _side), "cuEventRecord");
            Check(api.StreamWaitEvent(IntPtr.Zero, _joined, 0), "cuStreamWaitEvent");
            // Destroying a recorded event is safe: the driver releases it once the work it marks is done.
            Check(api.EventDestroy(_forked), "cuEventDestroy");
            Check(api.EventDestroy(_joined), "cuEventDestroy");
        }

        private sealed class SideScope : IDisposable
        {
            private readonly IntPtr _previous;

            public SideScope(IntPtr side) => (_previous, _stream) = (_stream, side);

            public void Dispose() => _stream = _previous;
        }
    }
}
