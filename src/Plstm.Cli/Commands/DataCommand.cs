using System.CommandLine;
using System.CommandLine.Help;
using System.Globalization;
using Plstm.Data;
using Plstm.Data.ArrowPointing;
using Plstm.Data.Graphs;

namespace Plstm.Cli.Commands;

/// <summary>
/// <c>plstm data …</c>: datasets. <c>plstm data arrows</c> writes an arrow-pointing (APE) dataset as
/// <c>00000.png</c>, <c>00001.png</c>, … and <c>labels.jsonl</c> (see <see cref="ArrowPointingExport"/>);
/// <c>plstm data tu NAME</c> downloads a TU graph data set (<see cref="TuDataset.DownloadAsync"/>: the only command that
/// goes online, and only when asked).
/// </summary>
public sealed class DataCommand : IVerb
{
    /// <inheritdoc />
    public Command Create()
    {
        var data = new Command("data", "Generate or download datasets.");
        data.Subcommands.Add(CreateArrows());
        data.Subcommands.Add(CreateTu());
        // A group without a sub-verb has nothing to do: show its help, as the root command does.
        data.SetAction(parseResult => new HelpAction().Invoke(parseResult));
        return data;
    }

    private static Command CreateTu()
    {
        var name = new Argument<string>("NAME") { Description = "TU data set name as on the TU server (e.g. MUTAG, ENZYMES, IMDB-BINARY)." };
        var dataRoot = new Option<string?>("--data")
        {
            Description = $"Data folder to download into (as DIR/tu/NAME/, where 'plstm train graph --data DIR' finds it); default ${DataPaths.EnvironmentVariable}, else ./data.",
        };
        var tu = new Command("tu",
            $"Download a TU graph data set (the official zip from {TuDataset.DownloadUrl}), check every file and put it in place "
            + "only when complete.")
        {
            name, dataRoot,
        };
        tu.SetAction(async (parseResult, cancellationToken) =>
        {
            string dataset = parseResult.GetValue(name)!;
            string root = parseResult.GetValue(dataRoot) ?? DataPaths.EnvironmentDataDirectory ?? "data";
            TuDataset loaded;
            try
            {
                loaded = await TuDataset.DownloadAsync(dataset, root, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException ex)
            {
                throw new CliUsageException($"The download of {dataset} failed ({ex.Message}).", ex);
            }
            catch (Exception ex) when (OptionChecks.IsUsageError(ex))
            {
                throw OptionChecks.AsUsage(ex);
            }
            var writer = parseResult.InvocationConfiguration.Output;
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{dataset}: {loaded.Graphs.Count} graphs, {loaded.ClassCount} classes, {loaded.NodeFeatureCount} node features → {loaded.Directory}"));
            writer.WriteLine($"train with: plstm train graph --dataset {dataset} --data {root}");
            writer.Flush();
            return PlstmApp.Success;
        });
        return tu;
    }

    private static Command CreateArrows()
    {
        var seed = new Option<long>("--seed")
        {
            Description = "Dataset seed (numpy seed of the reference generator; paper: train 43–47, val 100042, "
                + "val-ext 100043, test 200042, test-ext 200043).",
            Required = true,
        };
        OptionChecks.Add(seed, v => v >= 0, "--seed must be non-negative.");

        var size = new Option<int>("--size")
        {
            Description = "Image side in pixels at paper scale (192 for training, 384 for the extrapolation test).",
            Required = true,
        };
        OptionChecks.Add(size, v => v >= 1, "--size must be at least 1.");

        var count = new Option<long>("--count")
        {
            Description = "Number of images (indices 0 … count − 1).",
            Required = true,
        };
        OptionChecks.Add(count, v => v >= 1, "--count must be at least 1.");

        var output = new Option<string>("--out")
        {
            Description = "Output folder; must not exist or be empty. It appears only once complete.",
            Required = true,
        };
        OptionChecks.Add(output, v => !string.IsNullOrWhiteSpace(v), "--out must name a folder.");

        var scale = new Option<double>("--scale")
        {
            Description = "Divide image size, padding, radius, arrow length and width by this factor (CPU-scale "
                + "variant; width stays ≥ 1). Default 1 (paper scale).",
            DefaultValueFactory = _ => 1.0,
        };
        OptionChecks.Add(scale, v => double.IsFinite(v) && v >= 1, "--scale must be a number ≥ 1.");

        var arrows = new Command("arrows",
            "Write an arrow-pointing dataset: DIR/00000.png … (grayscale, 0/255) and DIR/labels.jsonl with "
            + "{index, label, L, W, ax, ay, phi, cx, cy, r} per image.")
        {
            seed, size, count, output, scale,
        };
        arrows.SetAction((parseResult, cancellationToken) =>
        {
            var settings = BuildSettings(parseResult.GetValue(size), parseResult.GetValue(seed), parseResult.GetValue(scale));
            string folder = parseResult.GetValue(output)!;
            long n = parseResult.GetValue(count);
            // Checked here as well as in the exporter so that the user gets a usage error, not a failure.
            if (File.Exists(folder) || (Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any()))
                throw new CliUsageException($"--out '{folder}' already exists and is not an empty folder.");

            var result = ArrowPointingExport.Write(settings, n, folder, cancellationToken);
            var writer = parseResult.InvocationConfiguration.Output;
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"wrote {result.Count} images of {result.ImageSize}×{result.ImageSize} ({result.Positives} with label 1) and {ArrowPointingExport.LabelsFileName} to {result.Folder}"));
            return Task.FromResult(PlstmApp.Success);
        });
        return arrows;
    }

    private static ArrowPointingSettings BuildSettings(int size, long seed, double scale)
    {
        try
        {
            var settings = ArrowPointingSettings.Paper(size, seed);
            if (scale != 1.0) settings = settings.Scaled(scale);
            settings.Validate();
            return settings;
        }
        catch (ArgumentException ex)
        {
            // Size/scale combinations that cannot be drawn are the user's choice: report them as usage errors.
            string message = ex is ArgumentOutOfRangeException { ParamName: "factor" }
                ? $"--scale {scale.ToString(CultureInfo.InvariantCulture)} must divide --size {size} into a whole number of pixels."
                : $"--size {size} with --scale {scale.ToString(CultureInfo.InvariantCulture)} cannot be drawn: {ex.Message}";
            throw new CliUsageException(message, ex);
        }
    }
}
