using System.Globalization;
using Plstm.Layers.Graph;
using Plstm.Training.Graph;

namespace Plstm.Cli.Commands;

/// <summary>
/// Trains one cross-validation fold in a child <c>plstm train graph --fold K --fold-worker</c> process (the same
/// executable, options and output folder), relaying its progress lines. Processes, not threads: see
/// <see cref="SelfProcess"/>. <c>tf32</c>: the parent's <c>--tf32</c>, passed on (the flag is per process).
/// </summary>
internal sealed class ProcessFoldRunner(TextWriter writer, bool named, bool tf32 = false)
{
    private readonly Lock _writeLock = new();

    /// <summary>The <see cref="GraphFoldRunner"/>: returns when the child exits 0; throws with the child's last error
    /// line otherwise; kills the child when <paramref name="cancellationToken"/> is cancelled.</summary>
    public void Run(GraphCvOptions options, int fold, CancellationToken cancellationToken)
    {
        var (exitCode, lastError) = SelfProcess.Run(Arguments(options, fold, tf32), input: null, line =>
        {
            if (string.IsNullOrWhiteSpace(line)) return;
            lock (_writeLock)
            {
                writer.WriteLine(named ? options.Dataset + " " + line : line);
                writer.Flush();
            }
        }, SelfProcess.KillTree, $"fold {fold} of {options.Dataset}", cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        if (exitCode != 0)
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"fold {fold} of {options.Dataset} failed (worker process exit {exitCode}): {lastError ?? "no message"}"));
    }

    /// <summary>The child's command line: every option of the run, for this one fold, into the same folder.</summary>
    internal static IReadOnlyList<string> Arguments(GraphCvOptions o, int fold, bool tf32 = false)
    {
        var inv = CultureInfo.InvariantCulture;
        var args = new List<string>
        {
            "train", "graph", "--dataset", o.Dataset, "--folds", o.Folds.ToString(inv), "--fold", fold.ToString(inv),
            "--epochs", o.Epochs.ToString(inv), "--batch-size", o.BatchSize.ToString(inv),
            "--lr", o.LearningRate.ToString("R", inv), "--weight-decay", o.WeightDecay.ToString("R", inv),
            "--seed", o.Seed.ToString(inv), "--layers", o.NumBlocks.ToString(inv), "--dim", o.HiddenDim.ToString(inv),
            "--heads", o.NumHeads.ToString(inv),
            "--transition-input", o.TransitionInput == GraphTransitionInput.Reference
                ? GraphTrainCommand.ReferenceInput : GraphTrainCommand.SharedNodeInput,
            "--p-normalization", o.PNormalization == GraphPNormalization.PerTargetEdge
                ? GraphTrainCommand.PerTargetEdge : GraphTrainCommand.PerIncomingEdge,
            "--device", o.Device, "--out", o.OutputFolder,
            // The parent has checked the folder and skipped finished folds; the child shares the folder.
            "--resume", "--parallel-folds", "1", "--fold-worker",
        };
        if (o.WarmupEpochs is int w) args.AddRange(["--warmup-epochs", w.ToString(inv)]);
        if (!o.AccumulationLossScale) args.Add("--mean-loss");
        if (o.EmaDecay > 0) args.AddRange(["--ema-decay", o.EmaDecay.ToString("R", inv)]);
        if (o.ComputeDtype == TorchSharp.torch.ScalarType.BFloat16) args.AddRange(["--compute-dtype", GraphTrainCommand.BFloat16Compute]);
        if (o.Selection == GraphModelSelection.AccuracyThenLoss)
            args.AddRange(["--select", GraphTrainCommand.SelectAccuracyThenLoss]);
        else if (o.Selection == GraphModelSelection.Loss)
            args.AddRange(["--select", GraphTrainCommand.SelectLoss]);
        if (o.Threads is int t) args.AddRange(["--threads", t.ToString(inv)]);
        if (o.DataDir is { } d) args.AddRange(["--data", d]);
        if (tf32) args.Add("--tf32");
        return args;
    }
}
