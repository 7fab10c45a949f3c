using System.CommandLine;

namespace Plstm.Cli.Commands;

/// <summary>
/// One <c>plstm</c> verb (<c>train</c>, <c>eval</c>, …). Each verb lives in its own file in this folder, builds its
/// <see cref="Command"/> (options, arguments and the <see cref="Command.SetAction(System.Func{ParseResult, int})"/>
/// handler) and is listed in <see cref="Verbs.All"/>.
/// </summary>
public interface IVerb
{
    /// <summary>Creates the command for this verb.</summary>
    Command Create();
}
