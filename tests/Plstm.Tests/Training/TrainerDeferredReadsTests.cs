using System.Text.Json;
using Plstm.Tests.Support;
using Plstm.Training;

namespace Plstm.Tests.Training;

/// <summary>
/// <see cref="TrainerOptions.SyncEverySteps"/>: the trainer reads its steps' numbers back every few steps (and at every
/// log, evaluation and checkpoint step) instead of after each one. Nothing a run reports or writes may change, the
/// reads must really be deferred, and a non-finite loss must still stop the run before anything later is saved.
/// </summary>
[Collection(TrainingSerialCollection.Name)]
public class TrainerDeferredReadsTests
{
    private static TrainerOptions Recipe(long steps, int? syncEvery) => new()
    {
        Steps = steps,
        BatchSize = 8,
        PeakLearningRate = 1e-2,
        WarmupSteps = 4,
        LabelSmoothing = 0.1,
        MixupAlpha = 0.8,
        CutmixAlpha = 1.0,
        LogEverySteps = 100,
        Seed = 21,
        SyncEverySteps = syncEvery,
    };

    [Fact]
    public void Reading_every_few_steps_changes_no_reported_number_metric_or_checkpoint()
    {
        var train = new SyntheticDataset(count: 64, seed: 1);
        var validation = new SyntheticDataset(count: 16, seed: 2);
        (List<string> Train, List<string> Validation, List<string> Metrics, long LastStep, List<string> Weights) Run(int sync)
        {
            using var folder = new TempFolder();
            using var model = TinyConvNet.Create(seed: 7);
            var log = new ProgressLog();
            // Logs every 3, validates every 5, saves every 7: reads forced off the window's rhythm.
            var options = Recipe(steps: 24, sync) with
            {
                LogEverySteps = 3, EvalEverySteps = 5, CheckpointEverySteps = 7, OutputFolder = folder.Path,
            };
            new Trainer(options, log).Fit(model, train, validation);
            var metrics = File.ReadAllLines(Path.Combine(folder.Path, MetricsWriter.JsonLinesFileName))
                .Select(line =>
                {
                    // Throughput and wall time are the only fields that may differ.
                    var fields = JsonDocument.Parse(line).RootElement.EnumerateObject()
                        .Where(p => p.Name is not ("images_per_s" or "time"))
                        .Select(p => $"{p.Name}={p.Value.GetRawText()}");
                    return string.Join(",", fields);
                }).ToList();
            return (
                log.Train.Select(r => $"{r.Step} {r.Epoch} {BitConverter.DoubleToInt64Bits(r.Loss)} {r.Accuracy:R} {r.GradNorm:R} {r.LearningRate:R}").ToList(),
                log.Validation.Select(r => $"{r.Step} {r.Loss:R} {r.Accuracy:R}").ToList(),
                metrics,
                TrainingCheckpoint.ReadState(Path.Combine(folder.Path, TrainingCheckpoint.LastFileName)).Step,
                model.named_parameters().Select(p => $"{p.name} {string.Join(",", p.parameter.data<float>().ToArray().Select(BitConverter.SingleToInt32Bits))}").ToList());
        }

        var everyStep = Run(1);
        Assert.Equal(24, everyStep.Train.Count);
        Assert.Equal(5, everyStep.Validation.Count);   // steps 5, 10, 15, 20 and the end
        foreach (int sync in new[] { 4, 10 })
        {
            var deferred = Run(sync);
            Assert.Equal(everyStep.Train, deferred.Train);
            Assert.Equal(everyStep.Validation, deferred.Validation);
            Assert.Equal(everyStep.Metrics, deferred.Metrics);
            Assert.Equal(everyStep.LastStep, deferred.LastStep);
            Assert.Equal(everyStep.Weights, deferred.Weights);
        }
    }

    [Fact]
    public void Steps_are_read_after_the_window_fills_or_at_a_checkpoint_step_not_before()
    {
        var train = new SyntheticDataset(count: 64, seed: 1);
        using var folder = new TempFolder();
        using var model = RecordingNet.Create(seed: 3);
        // The number of forward passes run when each step is reported.
        var forwardsAtReport = new Dictionary<long, int>();
        var log = new ProgressLog(r => forwardsAtReport[r.Step] = model.Calls.Count);
        var options = Recipe(steps: 14, syncEvery: 4) with { CheckpointEverySteps = 6, OutputFolder = folder.Path };
        new Trainer(options, log).Fit(model, train);

        // Reads at step 4 (a full window), 6 (a checkpoint), 10 (full), 12 (a checkpoint) and 14 (the end).
        var expected = new Dictionary<long, int>
        {
            [1] = 4, [2] = 4, [3] = 4, [4] = 4, [5] = 6, [6] = 6, [7] = 10, [8] = 10, [9] = 10, [10] = 10,
            [11] = 12, [12] = 12, [13] = 14, [14] = 14,
        };
        Assert.Equal(expected, forwardsAtReport);
        Assert.Equal(Enumerable.Range(1, 14).Select(s => (long)s), log.Train.Select(r => r.Step));
    }

    [Fact]
    public void A_non_finite_loss_read_late_names_its_own_step_and_the_checkpoint_before_it_stays()
    {
        var train = new SyntheticDataset(count: 64, seed: 1);
        using var folder = new TempFolder();
        using var model = PoisonedNet.Create(seed: 3, poisonedFrom: 7);
        var log = new ProgressLog();
        var options = Recipe(steps: 20, syncEvery: 4) with { CheckpointEverySteps = 5, OutputFolder = folder.Path };

        var error = Assert.Throws<InvalidOperationException>(() => new Trainer(options, log).Fit(model, train));

        Assert.Contains("at step 7;", error.Message);
        // Steps 6–9 were read together after step 9 (reads at 4, at the checkpoint step 5, then 9); the reports stop
        // at the bad step, and last.ckpt is step 5's.
        Assert.Equal(9, model.Forwards);
        Assert.Equal(Enumerable.Range(1, 7).Select(s => (long)s), log.Train.Select(r => r.Step));
        Assert.True(double.IsNaN(log.Train.Last().Loss));
        Assert.All(log.Train.SkipLast(1), r => Assert.True(double.IsFinite(r.Loss)));
        Assert.Equal(5, TrainingCheckpoint.ReadState(Path.Combine(folder.Path, TrainingCheckpoint.LastFileName)).Step);
    }

    [Fact]
    public void Live_tensor_count_is_flat_across_reads_every_few_steps()
    {
        var train = new SyntheticDataset(count: 64, seed: 1);
        using var model = TinyConvNet.Create(seed: 1);
        var counts = new Dictionary<long, long>();
        var log = new ProgressLog(r => counts[r.Step] = DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        new Trainer(Recipe(steps: 40, syncEvery: 6), log).Fit(model, train);
        long after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        // Reports come after each read, when no step's values are pending: from the second read on, flat.
        Assert.Equal(40, counts.Count);
        Assert.All(Enumerable.Range(8, 33), s => Assert.Equal(counts[7], counts[s]));
        Assert.Equal(before, after);
    }

    [Fact]
    public void The_default_reads_every_ten_steps_on_CUDA_and_every_step_on_the_CPU_or_with_the_curriculum()
    {
        var cpu = new Device(DeviceType.CPU);
        var gpu = new Device(DeviceType.CUDA, 0);
        var options = new TrainerOptions { Steps = 10 };
        Assert.Equal(1, options.SyncEveryStepsOn(cpu));
        Assert.Equal(10, options.SyncEveryStepsOn(gpu));
        var curriculum = options with { SymmetryCurriculumThreshold = 0.5 };
        Assert.Equal(1, curriculum.SyncEveryStepsOn(gpu));
        var explicitThree = options with { SyncEverySteps = 3 };
        Assert.Equal(3, explicitThree.SyncEveryStepsOn(cpu));
        Assert.Equal(3, explicitThree.SyncEveryStepsOn(gpu));
    }

    [Fact]
    public void A_window_below_one_or_above_one_with_the_curriculum_is_refused_naming_the_option()
    {
        var error = Assert.Throws<ArgumentException>(() => new Trainer(new TrainerOptions { Steps = 10, SyncEverySteps = 0 }));
        Assert.Equal(nameof(TrainerOptions.SyncEverySteps), error.ParamName);
        Assert.Contains("must be positive (got 0)", error.Message);
        error = Assert.Throws<ArgumentException>(() => new Trainer(new TrainerOptions
        {
            Steps = 10, SyncEverySteps = 2, SymmetryCurriculumThreshold = 0.5,
        }));
        Assert.Equal(nameof(TrainerOptions.SyncEverySteps), error.ParamName);
        Assert.Contains("symmetry curriculum", error.Message);
        // One is fine with the curriculum.
        _ = new Trainer(new TrainerOptions { Steps = 10, SyncEverySteps = 1, SymmetryCurriculumThreshold = 0.5 });
    }

    [Fact]
    public void Pending_values_come_back_in_one_read_in_step_order_and_are_released()
    {
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using (var reads = new DeferredStepReads<string>())
        {
            reads.Add(tensor(new[] { 1.5, 2.0 }), "a");
            reads.Add(tensor(new[] { 3f, -4f }), "b");
            var wrongLength = tensor(new[] { 1.0, 2.0, 3.0 });
            var error = Assert.Throws<ArgumentException>(() => reads.Add(wrongLength, "c"));
            Assert.Contains("Every step leaves 2 values (got 3)", error.Message);
            wrongLength.Dispose();
            Assert.Equal(2, reads.Count);
            var read = reads.ReadAll();
            Assert.Equal(0, reads.Count);
            Assert.Equal(["a", "b"], read.Select(r => r.Step));
            Assert.Equal([1.5, 2.0], read[0].Values);
            Assert.Equal([3.0, -4.0], read[1].Values);
            Assert.Empty(reads.ReadAll());
            reads.Add(tensor(new[] { 7.0 }), "unread");
        }
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    /// <summary><see cref="TinyConvNet"/> (no dropout) whose logits become NaN from its <c>poisonedFrom</c>-th forward
    /// pass on; counts its forward passes.</summary>
    private sealed class PoisonedNet : nn.Module<Tensor, Tensor>
    {
        private readonly TinyConvNet inner;
        private readonly int _poisonedFrom;

        private PoisonedNet(int poisonedFrom) : base(nameof(PoisonedNet))
        {
            inner = new TinyConvNet(dropoutRate: 0);
            _poisonedFrom = poisonedFrom;
            RegisterComponents();
        }

        public int Forwards { get; private set; }

        public override Tensor forward(Tensor input)
        {
            Forwards++;
            var logits = inner.forward(input);
            return Forwards >= _poisonedFrom ? logits * double.NaN : logits;
        }

        public static PoisonedNet Create(long seed, int poisonedFrom)
        {
            torch.random.manual_seed(seed);
            return new PoisonedNet(poisonedFrom);
        }
    }
}
