using System.CommandLine;
using Plstm.Models;

namespace Plstm.Cli.Commands;

/// <summary>
/// <c>plstm models [--json]</c>: lists every model preset of <see cref="ModelRegistry"/> with its parameter count at
/// its default image size and class count. Plain output is one line per preset; <c>--json</c> prints
/// <c>[{"name": …, "params": …, "image_size": …, "classes": …}, …]</c>.
/// </summary>
/// <remarks>Counting builds each preset once (the B models take a few hundred MB for about a second each).</remarks>
public sealed class ModelsCommand : IVerb
{
    /// <inheritdoc />
    public Command Create()
    {
        var json = new Option<bool>("--json")
        {
            Description = "Print a JSON array of {name, params, image_size, classes} instead of text lines.",
        };
        var models = new Command("models",
            "List the model presets with their parameter counts at their default image size and class count.")
        {
            json,
        };
        models.SetAction(parseResult =>
        {
            Write(parseResult.InvocationConfiguration.Output, parseResult.GetValue(json));
            return PlstmApp.Success;
        });
        return models;
    }

    /// <summary>Writes the listing (text lines or JSON) to <paramref name="writer"/>.</summary>
    public static void Write(TextWriter writer, bool json)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var summaries = ModelRegistry.Summaries();
        if (json)
            writer.WriteLine(ModelSummary.ToJson(summaries));
        else
            foreach (var summary in summaries)
                writer.WriteLine(summary.ToLine());
        writer.Flush();
    }
}
