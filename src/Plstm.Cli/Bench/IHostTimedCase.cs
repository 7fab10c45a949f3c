namespace Plstm.Cli.Bench;

/// <summary>
/// A benchmark case that also times how long the host takes to issue part of an iteration (the calls that return
/// before the device finishes). On a GPU, an iteration whose issue time comes close to its wall time is bound by the
/// host (TorchSharp and libtorch per-operation costs), not by the device's kernels.
/// </summary>
public interface IHostTimedCase : IBenchCase
{
    /// <summary>Host milliseconds of the two timed phases (e.g. forward and backward) of every iteration run so far,
    /// warm-up ones first.</summary>
    IReadOnlyList<(double First, double Second)> HostMilliseconds { get; }
}
