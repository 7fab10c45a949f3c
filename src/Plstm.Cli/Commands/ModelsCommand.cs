using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Plstm.Models;
using Plstm.Models.Language;

namespace Plstm.Cli.Commands;

/// <summary>
/// <c>plstm models [--json]</c>: lists every model preset — the vision presets of <see cref="ModelRegistry"/> with their
/// parameter counts at their default image size and class count, then the byte-level language-model presets of
/// <see cref="LanguageModelRegistry"/> (<c>plstm train lm --preset</c>). Plain output is one line per preset under a
/// heading per family; <c>--json</c> prints one array, the vision entries as
/// <c>{"name", "family": "vision", "params", "image_size", "classes"}</c> and the language entries as
/// <c>{"name", "family": "language", "architecture": "plstm"|"transformer", "params", "max_context"}</c>
/// (<c>max_context</c> null for the pLSTM: any length).
/// </summary>
/// <remarks>Counting builds each preset once (the B models take a few hundred MB for about a second each).</remarks>
public sealed class ModelsCommand : IVerb
{
    /// <inheritdoc />
    public Command Create()
    {
        var json = new Option<bool>("--json")
        {
            Description = "Print a JSON array instead of text lines: vision presets {name, family, params, image_size, classes}, language presets {name, family, architecture, params, max_context}.",
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
        var vision = ModelRegistry.Summaries();
        var language = LanguageModelRegistry.All;
        if (json)
        {
            writer.WriteLine(Json(vision, language));
        }
        else
        {
            writer.WriteLine("vision (plstm train --preset NAME; parameters at the default image size and classes):");
            foreach (var summary in vision) writer.WriteLine(summary.ToLine());
            writer.WriteLine();
            writer.WriteLine("language, byte-level (plstm train lm --preset NAME):");
            foreach (var preset in language)
                writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{preset.Name,-22} {preset.ParameterCount(),12:N0} params  {preset.Description}"));
        }
        writer.Flush();
    }

    private static string Json(IReadOnlyList<ModelSummary> vision, IReadOnlyList<LanguageModelPreset> language)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartArray();
            foreach (var s in vision) s.WriteJson(w);
            foreach (var preset in language)
            {
                w.WriteStartObject();
                w.WriteString("name", preset.Name);
                w.WriteString("family", "language");
                w.WriteString("architecture", preset.Family == LanguageModelFamily.Plstm ? "plstm" : "transformer");
                w.WriteNumber("params", preset.ParameterCount());
                if (preset.MaxContext is int context) w.WriteNumber("max_context", context);
                else w.WriteNull("max_context");
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
