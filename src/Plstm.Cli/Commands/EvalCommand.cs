using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Plstm.Experiments;
using Plstm.Training;
using Plstm.Training.Graph;

namespace Plstm.Cli.Commands;

/// <summary>
/// <c>plstm eval --checkpoint FILE [--data …] [--split test|val] [--image-size N]</c>: loads a checkpoint of
/// <c>plstm train</c> (the model is rebuilt from its stored configuration), evaluates it and prints one line
/// (<c>--json</c>: one JSON object). <c>--image-size</c> changes the resolution: arrows are generated at that size with
/// the same object sizes (the extrapolation test), files are resized; the positional embedding is resized by the model.
/// A fold checkpoint of <c>plstm train graph</c> (<c>OUT/fold-K/best.ckpt</c>) is recognised by its stored options and
/// scored on that fold's test (or validation) graphs of its TU data set (<c>--data</c>: the data folder), with the
/// predictions per graph in the <c>--json</c> object; the image-only options are refused for it.
/// </summary>
public sealed class EvalCommand : IVerb
{
    /// <inheritdoc />
    public Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint")
        {
            Description = "Checkpoint written by 'plstm train' (OUT/<model>/last.ckpt or best.ckpt) or 'plstm train graph' (OUT/fold-K/best.ckpt).",
            Required = true,
        };
        var data = new Option<string?>("--data") { Description = "arrows, fashion-mnist or a data folder (default: the data the model was trained on); for a graph checkpoint the folder holding tu/NAME/ (default: the one it was trained with, else $PLSTM_DATA, else ../shared/data)." };
        var dataDir = new Option<string?>("--data-dir") { Description = "Folder holding the Fashion-MNIST IDX files." };
        var split = new Option<string>("--split")
        {
            Description = "test (default) or val.",
            DefaultValueFactory = _ => "test",
        };
        split.AcceptOnlyFromAmong("test", "val");
        var imageSize = new Option<int?>("--image-size") { Description = "Evaluate at this image side (default: the training size); e.g. twice it for the extrapolation test." };
        OptionChecks.Add(imageSize, v => v is null or >= 1, "--image-size must be ≥ 1.");
        var count = new Option<int?>("--count") { Description = "Number of images (arrows: generated; files: an evenly spread subset)." };
        OptionChecks.Add(count, v => v is null or >= 1, "--count must be ≥ 1.");
        var batchSize = new Option<int>("--batch-size") { Description = "Evaluation batch size (graph checkpoints: default the training's evaluation batch).", DefaultValueFactory = _ => 128 };
        OptionChecks.Add(batchSize, v => v >= 1, "--batch-size must be ≥ 1.");
        var device = new Option<string>("--device") { Description = "cpu (default), cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
        var tta = OptionChecks.TtaOption();
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a line." };
        var threads = OptionChecks.ThreadsOption();

        var eval = new Command("eval", "Evaluate a trained checkpoint (optionally at another resolution), or a graph fold's checkpoint on its fold's graphs.")
        {
            checkpoint, data, dataDir, split, imageSize, count, batchSize, device, tta, json, threads,
        };
        eval.SetAction(parseResult =>
        {
            string path = parseResult.GetValue(checkpoint)!;
            var request = new EvaluationRequest
            {
                Data = parseResult.GetValue(data),
                DataDirectory = parseResult.GetValue(dataDir),
                Split = parseResult.GetValue(split)!,
                ImageSize = parseResult.GetValue(imageSize),
                Count = parseResult.GetValue(count),
            };
            string deviceName = parseResult.GetValue(device)!;
            OptionChecks.Device(deviceName);
            OptionChecks.ApplyThreads(parseResult.GetValue(threads));
            if (OptionChecks.Usage(() => GraphCheckpoint.IsGraphCheckpoint(path)))
            {
                var imageOnly = new Option[] { dataDir, imageSize, count, tta }
                    .FirstOrDefault(o => parseResult.GetResult(o) is { Implicit: false });
                if (imageOnly is not null)
                    throw new CliUsageException($"{imageOnly.Name} applies to image checkpoints; '{path}' is a graph checkpoint.");
                int? graphBatch = parseResult.GetResult(batchSize) is { Implicit: false } ? parseResult.GetValue(batchSize) : null;
                var graphSplit = parseResult.GetValue(split) == "val" ? GraphEvaluationSplit.Validation : GraphEvaluationSplit.Test;
                WriteGraphEvaluation(parseResult.InvocationConfiguration.Output, path, parseResult.GetValue(data), deviceName,
                    graphSplit, graphBatch, parseResult.GetValue(json));
                return PlstmApp.Success;
            }

            using var model = OptionChecks.Usage(() => TrainedModel.Load(path));
            var set = OptionChecks.Usage(() => EvaluationData.Create(model.Config, request));
            var augmentation = TestTimeAugmentationNames.Parse(parseResult.GetValue(tta)!);
            var result = OptionChecks.Usage(() => model.Evaluate(set.Dataset, deviceName, parseResult.GetValue(batchSize), augmentation));

            var writer = parseResult.InvocationConfiguration.Output;
            string source = EvaluationData.Describe(model.Config, request);
            if (parseResult.GetValue(json))
            {
                using var buffer = new MemoryStream();
                using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false }))
                {
                    w.WriteStartObject();
                    w.WriteString("checkpoint", Path.GetFullPath(path));
                    w.WriteString("model", model.Config.Model.Preset);
                    w.WriteNumber("step", model.Step);
                    w.WriteString("data", source);
                    w.WriteString("split", set.Name);
                    w.WriteNumber("image_size", set.ImageSize);
                    w.WriteString("tta", augmentation.ToName());
                    w.WriteNumber("count", result.Count);
                    w.WriteNumber("loss", result.Loss);
                    w.WriteNumber("acc", result.Accuracy);
                    w.WriteEndObject();
                }
                writer.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
            }
            else
            {
                string views = augmentation == TestTimeAugmentation.None ? "" : " " + augmentation.ToName();
                writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{model.Config.Model.Preset} (step {model.Step}) on {source} {set.Name} @{set.ImageSize}{views}: loss {result.Loss:0.0000} acc {result.Accuracy:0.0000} ({result.Count} images)"));
            }
            writer.Flush();
            return PlstmApp.Success;
        });
        return eval;
    }

    private static void WriteGraphEvaluation(TextWriter writer, string path, string? dataDir, string device,
        GraphEvaluationSplit split, int? batchSize, bool json)
    {
        using var checkpoint = OptionChecks.Usage(() => GraphCheckpoint.Load(path, dataDir, device));
        var result = checkpoint.Evaluate(split, batchSize);
        string splitName = split == GraphEvaluationSplit.Validation ? "val" : "test";
        if (json)
        {
            using var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false }))
            {
                w.WriteStartObject();
                w.WriteString("checkpoint", Path.GetFullPath(path));
                w.WriteString("dataset", result.Dataset);
                w.WriteNumber("fold", result.Fold);
                w.WriteString("split", splitName);
                w.WriteNumber("count", result.Count);
                w.WriteNumber("loss", result.Loss);
                w.WriteNumber("acc", result.Accuracy);
                if (result.RocAuc is double auc) w.WriteNumber("roc_auc", auc);
                else w.WriteNull("roc_auc");
                w.WriteStartArray("predictions");
                foreach (var p in result.Predictions)
                {
                    w.WriteStartObject();
                    w.WriteNumber("index", p.Index);
                    w.WriteNumber("label", p.Label);
                    w.WriteNumber("predicted", p.Predicted);
                    w.WriteStartArray("probabilities");
                    foreach (double q in p.Probabilities) w.WriteNumberValue(q);
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            writer.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
        }
        else
        {
            string auc = result.RocAuc is double a ? a.ToString("0.0000", CultureInfo.InvariantCulture) : "n/a";
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{result.Dataset} fold {result.Fold} {splitName}: loss {result.Loss:0.0000} acc {result.Accuracy:0.0000} ({result.Count} graphs), ROC-AUC {auc}"));
        }
        writer.Flush();
    }
}
