namespace Plstm.Cli.Commands;

/// <summary>The verbs registered under the root command, in the order help lists them.</summary>
public static class Verbs
{
    /// <summary>
    /// Every verb of the tool. To add a verb, create <c>Commands/&lt;Name&gt;Command.cs</c> with a class implementing <see cref="IVerb"/> and list it here.
    /// </summary>
    public static IReadOnlyList<IVerb> All { get; } =
    [
        new TrainCommand(), new EvalCommand(), new PredictCommand(), new DataCommand(), new ModelsCommand(),
        new PlotCommand(), new GenerateCommand(), new BenchCommand(), new SelfCheckCommand(),
    ];
}
