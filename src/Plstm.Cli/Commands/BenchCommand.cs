using System.CommandLine;

namespace Plstm.Cli.Commands;

/// <summary>
/// <c>plstm bench op|step</c>: speed and memory benchmarks (docs/benchmarks.md). <c>op</c> times the fused 2D pLSTM
/// operator against attention on the same tokens (<see cref="BenchOpCommand"/>); <c>step</c> times full training
/// steps of model presets (<see cref="BenchStepCommand"/>).
/// </summary>
public sealed class BenchCommand : IVerb
{
    /// <inheritdoc />
    public Command Create()
    {
        var bench = new Command("bench",
            "Benchmarks: 'op' (fused 2D pLSTM operator vs. attention, forward + backward) and 'step' (training step of "
            + "model presets); median times, peak memory, a markdown table and JSON.")
        {
            BenchOpCommand.Create(),
            BenchStepCommand.Create(),
        };
        return bench;
    }
}
