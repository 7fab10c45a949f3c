namespace Plstm.Cli.Bench;

/// <summary>
/// One prepared benchmark configuration: its inputs (or model and optimiser) exist on the device; <see cref="RunOnce"/>
/// runs one iteration (e.g. forward + backward) in its own dispose scope, so nothing of an iteration outlives it.
/// Disposing frees the inputs.
/// </summary>
public interface IBenchCase : IDisposable
{
    /// <summary>Runs one iteration; returns after launching the work (the caller synchronises the device).</summary>
    void RunOnce();
}
