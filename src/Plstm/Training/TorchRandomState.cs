using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Training;

/// <summary>
/// Saving and restoring torch's generators for exact resume, shared by <see cref="Trainer"/> and the language-model
/// trainer: the CPU generator's state is stored as bytes in the checkpoint; the CUDA generators, whose state
/// TorchSharp 0.107 cannot read, are re-seeded from (seed, step) instead.
/// </summary>
internal static class TorchRandomState
{
    /// <summary>torch's CPU generator state (<c>torch.random.get_rng_state()</c>) as bytes.</summary>
    public static byte[] Capture()
    {
        using var state = random.get_rng_state();
        using var values = state.data<byte>();
        return values.ToArray();
    }

    /// <summary>
    /// Restores torch's CPU generator from <paramref name="cpuState"/> (or, when the checkpoint holds none, seeds it
    /// from (<paramref name="seed"/>, <paramref name="step"/>)) and, on CUDA, re-seeds every CUDA generator from
    /// (seed, step): a resume is then at least deterministic (CUDA runs are not bitwise reproducible anyway).
    /// </summary>
    public static void Restore(byte[]? cpuState, long seed, long step, Device device)
    {
        if (cpuState is { Length: > 0 })
        {
            using var state = tensor(cpuState, ScalarType.Byte);
            random.set_rng_state(state);
        }
        else
        {
            random.manual_seed(DerivedSeed(seed, step));
        }
        if (device.type == DeviceType.CUDA) cuda.manual_seed_all(DerivedSeed(seed, step));
    }

    /// <summary>A non-negative seed derived from (seed, step) on a stream of its own.</summary>
    public static long DerivedSeed(long seed, long step) =>
        (long)(TrainingRandom.ForStream(seed, stream: 3, counter: step).NextUInt64() >> 1);
}
