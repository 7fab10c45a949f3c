namespace Plstm.Cli.Commands;

/// <summary>
/// Subcommands of <c>plstm train</c> for the non-vision tasks (<c>train graph</c>, <c>train lm</c>, <c>train state</c>).
/// Each lives in its own file in this folder and implements <see cref="IVerb"/>; its command's name is the word after
/// <c>train</c>. The vision experiments stay the <c>EXPERIMENT</c> argument of <c>train</c> itself.
/// </summary>
public static class TrainSubcommands
{
    /// <summary>Every <c>train</c> subcommand, in the order help lists them.</summary>
    public static IReadOnlyList<IVerb> All { get; } =
    [
        new GraphTrainCommand(), new TrainLmCommand(), new TrainStateCommand(),
    ];
}
