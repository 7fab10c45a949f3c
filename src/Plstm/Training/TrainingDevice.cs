using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Training;

/// <summary>Parses the trainer's device option: <c>cpu</c>, <c>cuda</c> (= <c>cuda:0</c>) or <c>cuda:N</c>.</summary>
public static class TrainingDevice
{
    /// <summary>The device named by <paramref name="device"/>.</summary>
    /// <exception cref="ArgumentException">Unknown name, or CUDA requested but not available (no CUDA build of
    /// libtorch, or no such GPU); <see cref="ArgumentException.ParamName"/> is <c>Device</c>.</exception>
    public static Device Resolve(string? device)
    {
        const string option = nameof(TrainerOptions.Device);
        string name = (device ?? "").Trim().ToLowerInvariant();
        if (name == "cpu") return CPU;
        if (name == "cuda" || name.StartsWith("cuda:", StringComparison.Ordinal))
        {
            int index = 0;
            if (name.Length > 4 && (!int.TryParse(name.AsSpan(5), out index) || index < 0))
                throw new ArgumentException($"Trainer option Device '{device}' is not cpu, cuda or cuda:N.", option);
            if (!cuda.is_available())
                throw new ArgumentException(
                    $"Trainer option Device is '{device}' but CUDA is not available (no CUDA-enabled libtorch or no GPU); use 'cpu'.",
                    option);
            int count = cuda.device_count();
            if (index >= count)
                throw new ArgumentException(
                    $"Trainer option Device is '{device}' but only {count} CUDA device(s) exist.", option);
            return new Device(DeviceType.CUDA, index);
        }
        throw new ArgumentException($"Trainer option Device '{device}' is not cpu, cuda or cuda:N.", option);
    }

    /// <summary>A CPU tensor onto <paramref name="device"/>. To CUDA through pinned memory without waiting: an ordinary
    /// copy from pageable memory waits for everything queued on the device first, which would make every step's upload
    /// a full synchronisation however rarely the trainer reads its numbers. libtorch keeps the pinned block until its
    /// copy has run.</summary>
    internal static Tensor Upload(Tensor host, Device device)
    {
        if (device.type != DeviceType.CUDA || host.device_type != DeviceType.CPU) return host.to(device);
        // Batches of a loader with pinned memory are pinned already (one copy fewer).
        if (host.is_pinned()) return host.to(device, non_blocking: true);
        using var pinned = host.pin_memory();
        return pinned.to(device, non_blocking: true);
    }
}
