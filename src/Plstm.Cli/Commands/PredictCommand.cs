using System.CommandLine;
using System.Globalization;
using Plstm.Experiments;
using Plstm.Training;

namespace Plstm.Cli.Commands;

/// <summary>
/// <c>plstm predict --checkpoint FILE IMAGE…</c>: classifies PNG/JPEG files with a checkpoint of <c>plstm train</c> and
/// prints <c>file: class (probability)</c> per image. Every file is read before anything is printed, so a bad file
/// produces only the error line.
/// </summary>
public sealed class PredictCommand : IVerb
{
    /// <inheritdoc />
    public Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint")
        {
            Description = "Checkpoint written by 'plstm train' (OUT/<model>/last.ckpt or best.ckpt).",
            Required = true,
        };
        var files = new Argument<string[]>("IMAGE")
        {
            Description = "PNG or JPEG files (resized to the training size unless --image-size).",
            Arity = ArgumentArity.OneOrMore,
        };
        var imageSize = new Option<int?>("--image-size") { Description = "Resize the images to this side (default: the training size)." };
        OptionChecks.Add(imageSize, v => v is null or >= 1, "--image-size must be ≥ 1.");
        var device = new Option<string>("--device") { Description = "cpu (default), cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
        var tta = OptionChecks.TtaOption();
        var threads = OptionChecks.ThreadsOption();

        var predict = new Command("predict", "Classify image files with a trained checkpoint: prints 'file: class (probability)'.")
        {
            checkpoint, files, imageSize, device, tta, threads,
        };
        predict.SetAction(parseResult =>
        {
            string deviceName = parseResult.GetValue(device)!;
            OptionChecks.Device(deviceName);
            OptionChecks.ApplyThreads(parseResult.GetValue(threads));
            using var model = OptionChecks.Usage(() => TrainedModel.Load(parseResult.GetValue(checkpoint)!));
            var images = parseResult.GetValue(files)!;
            var predictions = OptionChecks.Usage(() => model.Predict(images, parseResult.GetValue(imageSize), deviceName,
                augmentation: TestTimeAugmentationNames.Parse(parseResult.GetValue(tta)!)));
            var writer = parseResult.InvocationConfiguration.Output;
            foreach (var p in predictions)
                writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{p.Path}: {p.ClassName} ({p.Probability:0.000})"));
            writer.Flush();
            return PlstmApp.Success;
        });
        return predict;
    }
}
