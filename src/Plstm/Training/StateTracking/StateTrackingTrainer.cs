using System.Diagnostics;
using System.Globalization;
using Plstm.Data.StateTracking;
using Plstm.Models.StateTracking;
using TorchSharp;
using static TorchSharp.torch;

namespace Plstm.Training.StateTracking;

/// <summary>
/// Trains one state-tracking model (<see cref="StateTrackingOptions"/>) on freshly generated sequences — every step a
/// new batch, so there is no epoch and no over-fitting to a fixed set — with the cross-entropy of every position,
/// AdamW and the warm-up + cosine schedule; evaluates the first test length periodically (recording when the target
/// accuracy is first reached) and every test length at the end.
/// </summary>
public static class StateTrackingTrainer
{
    /// <summary>Runs the training and the final evaluation.</summary>
    /// <param name="options">Settings (validated here).</param>
    /// <param name="metrics">Receives a <c>train</c> record every <see cref="StateTrackingOptions.LogEvery"/> steps and
    /// a <c>test{T}</c> record per evaluation; may be null.</param>
    /// <param name="log">Receives one progress line per record; may be null.</param>
    /// <param name="cancellationToken">Stops training early (the final evaluation still runs).</param>
    /// <exception cref="ArgumentException">Invalid settings (the field is named).</exception>
    /// <exception cref="InvalidOperationException">The training loss became NaN or infinite.</exception>
    public static StateTrackingResult Run(StateTrackingOptions options, MetricsWriter? metrics = null,
        Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var device = TrainingDevice.Resolve(options.Device);
        var inv = CultureInfo.InvariantCulture;

        Trainer.SeedTorch(options.Seed);
        using var model = StateTrackingModel.Create(options.ModelConfig());
        model.to(device);
        using var optimizer = new AdamWOptimizer(ParameterGroups.Split(model), options.WeightDecay);
        var schedule = options.Schedule();
        var generator = StateTrackingGenerator.ForTraining(options.Task, options.Seed);
        var testSets = options.TestLengths
            .Select(length => StateTrackingGenerator.TestSet(options.Task, options.Seed, options.TestCount, length))
            .ToArray();
        int numClasses = options.Task.NumClasses();

        var clock = Stopwatch.StartNew();
        double windowLoss = 0, windowAccuracy = 0, windowGradNorm = 0, lastLoss = double.NaN;
        long windowSteps = 0, windowSequences = 0, step = 0;
        long? targetStep = null;
        double? targetSeconds = null;
        double windowStart = 0;
        var adaptive = options.AdaptiveCurriculum();
        long? fullLengthStep = adaptive?.Done == true ? 0 : null;
        model.train();
        // A length change of the adaptive curriculum: log it, and note the step at which the full length is reached.
        void CurriculumMoved(string what)
        {
            log?.Invoke(string.Create(inv, $"curriculum  step {step,6}  {what}"));
            if (adaptive!.Done) fullLengthStep = step;
        }
        bool TimeIsUp() => options.TimeLimitSeconds > 0 && clock.Elapsed.TotalSeconds >= options.TimeLimitSeconds;
        while (step < options.Steps && !cancellationToken.IsCancellationRequested && !TimeIsUp())
        {
            long progress = options.Progress(step, clock.Elapsed.TotalSeconds);
            int scheduled = options.TrainLengthAt(progress);
            if (adaptive is not null && options.CurriculumSteps > 0 && adaptive.RaiseTo(scheduled))
                CurriculumMoved(string.Create(inv, $"length raised by the schedule to {adaptive.Length}"));
            int length = adaptive?.Length ?? scheduled;
            var batch = generator.Next(options.BatchSize, length);
            double learningRate = schedule.At(progress);
            var (loss, accuracy, gradNorm) = TrainStep(model, optimizer, batch, numClasses, learningRate,
                options.GradientClip, device);
            step++;
            // A diverged run cannot recover (AdamW's moments are NaN now): stop with a clear message instead of
            // training on for the remaining steps.
            if (!double.IsFinite(loss))
                throw new InvalidOperationException(string.Create(inv,
                    $"The training loss became {loss} at step {step} (learning rate {learningRate:G3}); lower the learning rate or clip the gradients."));
            if (adaptive is not null && adaptive.Observe(accuracy))
                CurriculumMoved(string.Create(inv, $"length {length} → {adaptive.Length}"));
            windowLoss += loss;
            windowAccuracy += accuracy;
            windowGradNorm += gradNorm;
            windowSteps++;
            windowSequences += batch.BatchSize;
            if (step % options.LogEvery == 0 || step == options.Steps || TimeIsUp())
            {
                double now = clock.Elapsed.TotalSeconds;
                lastLoss = windowLoss / windowSteps;
                double speed = windowSequences / Math.Max(now - windowStart, 1e-9);
                metrics?.Write(new MetricRecord(step, 0, "train", lastLoss, windowAccuracy / windowSteps, learningRate,
                    windowGradNorm / windowSteps, speed, Now()));
                log?.Invoke(string.Create(inv,
                    $"step {step,6}/{options.Steps}  len {length,3}  loss {lastLoss:F4}  acc {windowAccuracy / windowSteps:P1}  lr {learningRate:G3}  {speed:F0} seq/s  {now:F0} s"));
                windowLoss = windowAccuracy = windowGradNorm = 0;
                windowSteps = windowSequences = 0;
                windowStart = now;
            }
            if (options.EvalEvery > 0 && step % options.EvalEvery == 0 && step < options.Steps)
            {
                var first = Evaluate(model, testSets[0], options, device, step, metrics, log);
                model.train();
                if (targetStep is null && first.Accuracy >= options.TargetAccuracy)
                {
                    targetStep = step;
                    targetSeconds = clock.Elapsed.TotalSeconds;
                    if (options.StopAtTarget) break;
                }
            }
        }
        double trainSeconds = clock.Elapsed.TotalSeconds;
        if (windowSteps > 0) lastLoss = windowLoss / windowSteps;

        var results = testSets.Select(set => Evaluate(model, set, options, device, step, metrics, log)).ToArray();
        if (targetStep is null && results[0].Accuracy >= options.TargetAccuracy)
        {
            // The final evaluation counts as one more check at the first length.
            targetStep = step;
            targetSeconds = trainSeconds;
        }
        return new StateTrackingResult(options, model.ParameterCount(), step, trainSeconds, lastLoss, targetStep,
            targetSeconds, results) { FinalTrainLength = adaptive?.Length, FullLengthStep = fullLengthStep };
    }

    private static (double Loss, double Accuracy, double GradNorm) TrainStep(StateTrackingModel model,
        AdamWOptimizer optimizer, StateTrackingBatch batch, int numClasses, double learningRate, double clip, Device device)
    {
        // One scope per step: every intermediate tensor (activations, the loss, the batch on the device) dies here.
        using var scope = NewDisposeScope();
        var shape = new long[] { batch.BatchSize, batch.Length };
        var tokens = tensor(batch.Tokens, shape).to(device);
        var targets = tensor(batch.Targets, shape).to(device);
        var logits = model.forward(tokens);                                              // [B, T, C]
        var flatLogits = logits.reshape(-1, numClasses);
        var flatTargets = targets.reshape(-1);
        var loss = nn.functional.cross_entropy(flatLogits, flatTargets);
        var gradNorm = OptimizerUpdate.Apply(model, optimizer, loss, learningRate, clip);
        Tensor accuracy;
        using (no_grad()) accuracy = flatLogits.argmax(1).eq(flatTargets).to_type(ScalarType.Float64).mean();
        var values = OptimizerUpdate.Read(loss, accuracy, gradNorm);                         // one wait for the device
        return (values[0], values[1], values[2]);
    }

    private static LengthAccuracy Evaluate(StateTrackingModel model, StateTrackingBatch set, StateTrackingOptions options,
        Device device, long step, MetricsWriter? metrics, Action<string>? log)
    {
        var result = StateTrackingEvaluation.Evaluate(model, set, options.EvalBatchSize, device);
        var inv = CultureInfo.InvariantCulture;
        metrics?.Write(new MetricRecord(step, 0, string.Create(inv, $"test{set.Length}"), null, result.Accuracy, null, null,
            null, Now()));
        log?.Invoke(string.Create(inv,
            $"eval  step {step,6}  length {set.Length,4}  acc {result.Accuracy:P2}  last {result.LastAccuracy:P2}"));
        return result;
    }

    private static double Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
}
