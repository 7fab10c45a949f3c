// The code of docs/library.md, compiled and run by LibraryGuideTests: the region between the markers is the guide's
// code block, character for character (the test compares them), so the guide cannot drift from the library.
// region: library-guide
using Plstm.Data.ArrowPointing;
using Plstm.Interop;
using Plstm.Models;
using Plstm.Training;

namespace MyApp;

public static class ArrowsExample
{
    /// <summary>Trains a small pLSTM-ViT on the arrow-pointing task, saves and reloads its weights, and returns the
    /// reloaded model's validation accuracy.</summary>
    public static double TrainAndReload(int steps, int trainImages, string outputFolder)
    {
        // Data: arrow pointing at 64 px (the paper's 192-px settings scaled by 3), rendered on demand from the seed.
        var settings = ArrowPointingSettings.Paper(imageSize: 192, seed: 43).Scaled(3);
        var train = new ArrowPointingDataset(settings, trainImages);
        var validation = new ArrowPointingDataset(ArrowPointingSettings.Paper(192, seed: 44).Scaled(3), 64);

        // A preset from the registry (`plstm models` lists them), sized for the data: [B, H, W, C] → [B, classes].
        using var model = ModelRegistry.Create("plstm_vit_tiny", imageSize: 64, numClasses: 2);

        // AdamW, warm-up + cosine, clipping, metrics.jsonl, TensorBoard events and atomic checkpoints in the folder.
        // The datasets give [C, H, W] images; the trainer feeds them in the layout the model declares ([B, H, W, C]).
        var trainer = new Trainer(new TrainerOptions
        {
            Steps = steps, BatchSize = 16, PeakLearningRate = 5e-4, WarmupSteps = steps / 10,
            EvalEverySteps = steps, Seed = 1, Device = "cpu", OutputFolder = outputFolder,
        });
        TrainingResult result = trainer.Fit(model, train, validation);
        Console.WriteLine($"{result.Step} steps, last training loss {result.LastTrainLoss:0.000}");

        // Weights by the reference's parameter names (safetensors), into a fresh model of the same preset.
        string weights = Path.Combine(outputFolder, "weights.safetensors");
        ModelCheckpoint.Save(model, weights);
        using var reloaded = ModelRegistry.Create("plstm_vit_tiny", imageSize: 64, numClasses: 2);
        ModelCheckpoint.Load(reloaded, weights);
        EvaluationResult evaluation = trainer.Evaluate(reloaded, validation);
        Console.WriteLine($"validation accuracy {evaluation.Accuracy:0.000} on {evaluation.Count} images");
        return evaluation.Accuracy;
    }
}
// endregion: library-guide
