using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Plstm.Cli.Training;
using Plstm.Data;
using Plstm.Experiments;
using Plstm.Models.Language;
using Plstm.Training;
using Plstm.Training.Language;
using static TorchSharp.torch;

namespace Plstm.Cli.Commands;

/// <summary>
/// <c>plstm train lm [--data FILE] [--preset lm_tiny|…] …</c>: trains a byte-level language model on any UTF-8 text
/// (default tiny Shakespeare), first 90 % for training and last 10 % for validation, with the shared trainer machinery
/// (<see cref="LanguageModelTrainer"/>: AdamW, warm-up + cosine, clipping, metrics, atomic resumable checkpoints);
/// prints progress lines and the final validation loss in nats and bits per byte, and writes <c>results.json</c> last
/// (atomically). See <c>docs/language.md</c>.
/// </summary>
/// <remarks>Everything is checked (and the text read) before <c>--out</c> is created, so a bad input leaves no output
/// folder.</remarks>
public sealed class TrainLmCommand : IVerb
{
    /// <inheritdoc />
    public Command Create()
    {
        var data = new Option<string?>("--data") { Description = "UTF-8 text file (default: tiny Shakespeare at $PLSTM_DATA/text/tinyshakespeare.txt or ../shared/data/text/)." };
        var preset = new Option<string?>("--preset") { Description = $"Language-model preset: {string.Join(", ", LanguageModelRegistry.Names)} (default {LanguageModelTrainPlan.DefaultPreset})." };
        var steps = new Option<long?>("--steps") { Description = $"Optimiser steps (default {LanguageModelTrainPlan.DefaultSteps}; with --time-budget: no step limit)." };
        var batchSize = new Option<int?>("--batch-size") { Description = $"Windows per batch (default {LanguageModelTrainPlan.DefaultBatchSize})." };
        var context = new Option<int?>("--context") { Description = $"Sequence length in bytes (default {LanguageModelTrainPlan.DefaultContext}; transformers: at most their maximal context)." };
        var lr = new Option<double?>("--lr") { Description = "Peak learning rate (default 2e-3)." };
        var warmup = new Option<long?>("--warmup") { Description = "Linear warm-up steps (default 5 % of --steps; 100 with a time budget only)." };
        var weightDecay = new Option<double?>("--weight-decay") { Description = "Decoupled weight decay on weights (default 0.1)." };
        var clip = new Option<double?>("--clip") { Description = "Global gradient-norm clip (default 1; 0 = off)." };
        var seed = new Option<long?>("--seed") { Description = "Run seed: initialisation and batches (default 0)." };
        var device = new Option<string?>("--device") { Description = "cpu (default), cuda or cuda:N." };
        var evalEvery = new Option<long?>("--eval-every") { Description = "Validate every N steps on --eval-batches batches (default 250; 0 = only the final evaluation on the whole split)." };
        var evalBatches = new Option<int?>("--eval-batches") { Description = "Batches of each periodic validation (default 16; the final one uses the whole split)." };
        var checkpointEvery = new Option<long?>("--checkpoint-every") { Description = "Write last.ckpt every N steps (default: --eval-every; 0 = only at the end)." };
        var logEvery = new Option<long?>("--log-every") { Description = "Progress line and metrics every N steps (default 10)." };
        var syncEvery = new Option<int?>("--sync-every") { Description = "Read the training numbers (loss, gradient norm) from the device every N steps, so the host can queue the next steps meanwhile (default: 10 on CUDA, else 1; with --time-budget always 1)." };
        var timeBudget = new Option<string?>("--time-budget") { Description = "Wall-clock budget of the training steps (600, 90s, 10m, 1h30m): training stops there and the cosine reaches its end value there (or at --steps, whichever comes first)." };
        var stopAfter = new Option<long?>("--stop-after") { Description = "Stop after N steps (saving last.ckpt) without changing the schedule; continue with --resume." };
        var output = new Option<string?>("--out") { Description = "Output folder (default runs/lm-<preset>); must not exist or be empty unless --resume." };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its last.ckpt (same settings)." };
        var threads = OptionChecks.ThreadsOption();
        var tf32 = OptionChecks.Tf32Option();

        var command = new Command("lm",
            "Train a byte-level language model (pLSTM or transformer preset) on a UTF-8 text: 90/10 split by position, "
            + "validation loss in nats and bits per byte, checkpoints, metrics and results.json.")
        {
            data, preset, steps, batchSize, context, lr, warmup, weightDecay, clip, seed, device, evalEvery, evalBatches,
            checkpointEvery, logEvery, syncEvery, timeBudget, stopAfter, output, resume, threads, tf32,
        };
        // Asynchronous (on a worker thread) so that Ctrl+C can cancel it: the trainer then saves last.ckpt and stops.
        command.SetAction((parseResult, cancellationToken) => Task.Run(() =>
        {
            var settings = new LanguageModelTrainSettings
            {
                Data = parseResult.GetValue(data),
                Preset = parseResult.GetValue(preset),
                Steps = parseResult.GetValue(steps),
                BatchSize = parseResult.GetValue(batchSize),
                Context = parseResult.GetValue(context),
                Lr = parseResult.GetValue(lr),
                Warmup = parseResult.GetValue(warmup),
                WeightDecay = parseResult.GetValue(weightDecay),
                Clip = parseResult.GetValue(clip),
                Seed = parseResult.GetValue(seed),
                Device = parseResult.GetValue(device),
                EvalEvery = parseResult.GetValue(evalEvery),
                EvalBatches = parseResult.GetValue(evalBatches),
                CheckpointEvery = parseResult.GetValue(checkpointEvery),
                LogEvery = parseResult.GetValue(logEvery),
                SyncEvery = parseResult.GetValue(syncEvery),
                TimeBudget = parseResult.GetValue(timeBudget),
                StopAfter = parseResult.GetValue(stopAfter),
                Out = parseResult.GetValue(output),
                Resume = parseResult.GetValue(resume),
                Threads = parseResult.GetValue(threads),
            };
            OptionChecks.ApplyTf32(parseResult.GetValue(tf32));
            return Run(settings, parseResult.InvocationConfiguration.Output, cancellationToken);
        }, CancellationToken.None));
        return command;
    }

    /// <summary>Runs <c>train lm</c> with <paramref name="settings"/>; returns the exit code.</summary>
    public static int Run(LanguageModelTrainSettings settings, TextWriter writer, CancellationToken cancellationToken)
    {
        var plan = LanguageModelTrainPlan.Build(settings);
        OptionChecks.ApplyThreads(plan.Threads);
        var wall = Stopwatch.StartNew();
        var o = plan.Options.Trainer;
        var inv = CultureInfo.InvariantCulture;
        var corpus = plan.Corpus;

        Trainer.SeedTorch(o.Seed);
        using var model = plan.Preset.Create();
        long parameters = model.ParameterCount();
        string limit = plan.Options.TimeBudgetSeconds is double budget
            ? (o.Steps >= LanguageModelTrainingOptions.UnboundedSteps
                ? $"a {TrainingView.FormatEta(TimeSpan.FromSeconds(budget))} budget"
                : string.Create(inv, $"{o.Steps} steps or a {TrainingView.FormatEta(TimeSpan.FromSeconds(budget))} budget"))
            : string.Create(inv, $"{o.Steps} steps");
        writer.WriteLine(string.Create(inv,
            $"{plan.Preset.Name} ({(plan.Preset.Family == LanguageModelFamily.Plstm ? "pLSTM" : "transformer")}, {parameters:N0} parameters): {limit} of {o.BatchSize} × {plan.Options.SequenceLength} bytes, lr {TrainingView.FormatLearningRate(o.PeakLearningRate)}, on {o.Device} ({get_num_threads()} threads)"));
        writer.WriteLine(string.Create(inv,
            $"data: {corpus.Source} ({corpus.Length:N0} bytes: train {corpus.TrainLength:N0}, validation {corpus.ValidationLength:N0})"));
        writer.WriteLine($"output: {plan.OutputFolder}{(o.Resume ? " (resuming)" : "")}");
        writer.Flush();

        var view = new LanguageModelTrainingView(writer, plan.Preset.Name, o.LogEverySteps);
        var trainer = new LanguageModelTrainer(plan.Options, new SyncProgress<LanguageModelTrainingProgress>(view.Report));
        LanguageModelTrainingResult result;
        try
        {
            result = trainer.Fit(model, corpus, cancellationToken);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidDataException)
        {
            // A resume checkpoint that does not fit this run (other options, text or model).
            throw new CliUsageException(LanguageModelTrainPlan.PlainMessage(ex), ex);
        }

        switch (result.StopReason)
        {
            case LanguageModelStopReason.Cancelled:
                writer.WriteLine($"interrupted at step {result.Step}: last.ckpt is in {plan.OutputFolder}; run the same command with --resume to continue.");
                writer.Flush();
                return TrainCommand.Interrupted;
            case LanguageModelStopReason.StopAfterSteps:
                writer.WriteLine(string.Create(inv,
                    $"stopped after step {result.Step} of {result.TotalSteps} (--stop-after): last.ckpt is in {plan.OutputFolder}; run the same command with --resume to continue."));
                writer.Flush();
                return PlstmApp.Success;
        }

        var final = result.FinalValidation!;
        bool bounded = o.Steps < LanguageModelTrainingOptions.UnboundedSteps;
        var results = new LanguageModelRunResult
        {
            Preset = plan.Preset.Name,
            Family = plan.Preset.Family,
            Parameters = parameters,
            Data = corpus.Source,
            DataBytes = corpus.Length,
            TrainBytes = corpus.TrainLength,
            ValidationBytes = corpus.ValidationLength,
            Steps = result.Step,
            MaxSteps = bounded ? o.Steps : null,
            TimeBudgetSeconds = plan.Options.TimeBudgetSeconds,
            StoppedBy = result.StopReason,
            BatchSize = o.BatchSize,
            Context = plan.Options.SequenceLength,
            LearningRate = o.PeakLearningRate,
            WarmupSteps = o.WarmupSteps,
            WeightDecay = o.WeightDecay,
            Clip = o.GradientClip,
            Seed = o.Seed,
            Device = o.Device,
            Threads = get_num_threads(),
            TrainSeconds = result.TrainSeconds,
            WallSeconds = wall.Elapsed.TotalSeconds,
            BytesPerSecond = result.TrainSeconds > 0
                ? result.Step * (double)o.BatchSize * plan.Options.SequenceLength / result.TrainSeconds : 0,
            StepsPerSecond = result.TrainSeconds > 0 ? result.Step / result.TrainSeconds : 0,
            LastLearningRate = result.LastLearningRate,
            LastTrainLoss = result.LastTrainLoss,
            ValNatsPerByte = final.NatsPerByte,
            ValBitsPerByte = final.BitsPerByte,
            ValBytes = final.Bytes,
            BestPeriodicValNatsPerByte = result.BestValidationLoss,
            BestStep = result.BestStep,
        };
        string resultsPath = Path.Combine(plan.OutputFolder, LanguageModelRunResult.FileName);
        AtomicFile.WriteAllBytes(resultsPath, Encoding.UTF8.GetBytes(results.ToJson()));

        string stoppedBy = result.StopReason == LanguageModelStopReason.TimeBudget ? "the time budget" : "the step limit";
        writer.WriteLine(string.Create(inv,
            $"done: {result.Step} steps in {ExperimentResult.FormatDuration(result.TrainSeconds)} of training ({results.StepsPerSecond:0.000} steps/s, {results.BytesPerSecond:0} bytes/s), stopped by {stoppedBy}"));
        writer.WriteLine(string.Create(inv,
            $"validation: {final.NatsPerByte:0.0000} nats/byte, {final.BitsPerByte:0.0000} bits/byte ({final.Bytes:N0} bytes)"));
        writer.WriteLine($"results: {resultsPath}");
        writer.WriteLine($"checkpoint: {Path.Combine(plan.OutputFolder, TrainingCheckpoint.LastFileName)}");
        writer.WriteLine(string.Create(inv, $"total time: {ExperimentResult.FormatDuration(wall.Elapsed.TotalSeconds)}"));
        writer.Flush();
        return PlstmApp.Success;
    }
}
