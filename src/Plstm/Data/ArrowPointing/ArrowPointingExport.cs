using System.Globalization;
using System.Text;
using System.Text.Json;
using Plstm.Data.Images;

namespace Plstm.Data.ArrowPointing;

/// <summary>Summary of a finished export.</summary>
/// <param name="Folder">The full path of the written folder.</param>
/// <param name="Count">Number of images written.</param>
/// <param name="Positives">Number of samples with label 1.</param>
/// <param name="ImageSize">Side of the images in pixels.</param>
public sealed record ArrowPointingExportResult(string Folder, long Count, long Positives, int ImageSize);

/// <summary>
/// Writes a generated dataset to disk: <c>00000.png</c>, <c>00001.png</c>, … (8-bit grayscale PNG, 0 or 255) and
/// <c>labels.jsonl</c> with one JSON object per sample, in index order:
/// <c>{"index", "label", "L", "W", "ax", "ay", "phi", "cx", "cy", "r"}</c> (image coordinates, padding included,
/// doubles in shortest round-trip form).
/// </summary>
/// <remarks>
/// Nothing is ever half-written: everything goes into a hidden sibling folder, which is renamed to the target only
/// once complete and is deleted on failure or cancellation. The target must not exist or must be an empty folder.
/// </remarks>
public static class ArrowPointingExport
{
    /// <summary>Name of the label file inside the output folder.</summary>
    public const string LabelsFileName = "labels.jsonl";

    /// <summary>The file name of image <paramref name="index"/> in a dataset of <paramref name="count"/> images:
    /// the zero-padded index (at least 5 digits, more when the dataset needs them) and <c>.png</c>.</summary>
    public static string ImageFileName(long index, long count)
    {
        int digits = Math.Max(5, Math.Max(count - 1, 0).ToString(CultureInfo.InvariantCulture).Length);
        return index.ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0') + ".png";
    }

    /// <summary>The <c>labels.jsonl</c> line of a sample (without the line break).</summary>
    public static string ToJsonLine(ArrowPointingSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("index", sample.Index);
            json.WriteNumber("label", sample.Label);
            json.WriteNumber("L", sample.Length);
            json.WriteNumber("W", sample.Width);
            json.WriteNumber("ax", sample.Ax);
            json.WriteNumber("ay", sample.Ay);
            json.WriteNumber("phi", sample.Phi);
            json.WriteNumber("cx", sample.Cx);
            json.WriteNumber("cy", sample.Cy);
            json.WriteNumber("r", sample.Radius);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>
    /// Generates samples 0 … <paramref name="count"/> − 1 of <paramref name="settings"/> into
    /// <paramref name="outputFolder"/>. Images are rendered and encoded in parallel; the files do not depend on the
    /// degree of parallelism.
    /// </summary>
    /// <param name="settings">Generator settings (validated).</param>
    /// <param name="count">Number of images, ≥ 1.</param>
    /// <param name="outputFolder">Target folder: must not exist yet, or be empty. Its parent is created if needed.</param>
    /// <param name="cancellationToken">Stops the export; the partial output is removed.</param>
    /// <exception cref="IOException">The target exists and is not an empty folder, or writing fails.</exception>
    public static ArrowPointingExportResult Write(ArrowPointingSettings settings, long count, string outputFolder,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputFolder);
        var generator = new ArrowPointingGenerator(settings);

        string target = Path.GetFullPath(outputFolder.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
        if (File.Exists(target))
            throw new IOException($"'{outputFolder}' exists and is a file.");
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
            throw new IOException($"'{outputFolder}' exists and is not empty; refusing to overwrite it.");
        string parent = Path.GetDirectoryName(target)
            ?? throw new IOException($"'{outputFolder}' has no parent folder.");
        Directory.CreateDirectory(parent);

        // Same parent as the target, so the final rename stays on one file system and is atomic.
        string staging = Path.Combine(parent, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.partial");
        Directory.CreateDirectory(staging);
        try
        {
            int size = settings.ImageSize;
            var samples = new ArrowPointingSample[count];
            Parallel.For(0L, count, new ParallelOptions { CancellationToken = cancellationToken }, i =>
            {
                var sample = generator.GetSample(i);
                samples[i] = sample;
                var pixels = generator.Render(sample);
                byte[] png = PngWriter.Encode(PngImage.Grayscale(size, size, pixels));
                File.WriteAllBytes(Path.Combine(staging, ImageFileName(i, count)), png);
            });
            cancellationToken.ThrowIfCancellationRequested();

            long positives = 0;
            using (var writer = new StreamWriter(Path.Combine(staging, LabelsFileName), false, new UTF8Encoding(false)))
            {
                writer.NewLine = "\n";
                foreach (var sample in samples)
                {
                    writer.WriteLine(ToJsonLine(sample));
                    positives += sample.Label;
                }
            }

            // An empty target folder is allowed (e.g. created by a caller); it is replaced by the staging folder.
            if (Directory.Exists(target)) Directory.Delete(target);
            Directory.Move(staging, target);
            return new ArrowPointingExportResult(target, count, positives, size);
        }
        catch
        {
            TryDeleteFolder(staging);
            throw;
        }
    }

    private static void TryDeleteFolder(string folder)
    {
        try
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the export's own error is what the caller needs to see.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
