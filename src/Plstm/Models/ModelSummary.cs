using System.Text;
using System.Text.Json;

namespace Plstm.Models;

/// <summary>One line of the model listing (<c>plstm models</c>): a preset and its parameter count at its defaults.</summary>
/// <param name="Name">Preset name.</param>
/// <param name="Params">Number of parameter elements at the default image size and class count.</param>
/// <param name="ImageSize">Default image side in pixels.</param>
/// <param name="Classes">Default number of classes.</param>
/// <param name="Description">One-line description.</param>
public sealed record ModelSummary(string Name, long Params, int ImageSize, int Classes, string Description)
{
    /// <summary>
    /// JSON array <c>[{"name": …, "family": "vision", "params": …, "image_size": …, "classes": …}, …]</c>, in the given
    /// order, indented (the vision part of <c>plstm models --json</c>).
    /// </summary>
    public static string ToJson(IEnumerable<ModelSummary> summaries)
    {
        ArgumentNullException.ThrowIfNull(summaries);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartArray();
            foreach (var s in summaries) s.WriteJson(writer);
            writer.WriteEndArray();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Writes this entry as one JSON object (see <see cref="ToJson"/>).</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteString("name", Name);
        writer.WriteString("family", "vision");
        writer.WriteNumber("params", Params);
        writer.WriteNumber("image_size", ImageSize);
        writer.WriteNumber("classes", Classes);
        writer.WriteEndObject();
    }

    /// <summary>One human-readable line: name, parameter count, image size, classes, description.</summary>
    public string ToLine() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{Name,-22} {Params,12:N0} params  {ImageSize,4} px  {Classes,5} classes  {Description}");
}
