using System.Runtime.InteropServices;
using TorchSharp;

namespace Plstm.Interop;

/// <summary>Raw access to a tensor's storage for the native kernels (the CUDA gate kernel, the CPU gate walk).</summary>
internal static class TensorData
{
    [DllImport("LibTorchSharp")]
    private static extern IntPtr THSTensor_data(IntPtr tensor);

    /// <summary>The address of a contiguous tensor's first element (device memory for CUDA tensors). The caller keeps the
    /// tensor alive (and contiguous) while the address is used.</summary>
    /// <exception cref="InvalidOperationException">libtorch returned no address.</exception>
    public static IntPtr Pointer(torch.Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var pointer = THSTensor_data(tensor.Handle);
        if (pointer == IntPtr.Zero)
            throw new InvalidOperationException("could not read a tensor's data pointer");
        return pointer;
    }

    /// <summary>The CUDA device ordinal of <paramref name="tensor"/>'s device for the driver calls: its index, 0 for a
    /// device given without one.</summary>
    public static int DeviceIndex(torch.Tensor tensor) => tensor.device_index < 0 ? 0 : tensor.device_index;
}
