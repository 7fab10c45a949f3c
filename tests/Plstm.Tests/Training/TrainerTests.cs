using Plstm.Tests.Support;
using System.Text.Json;
using Plstm.Data;
using Plstm.Training;

namespace Plstm.Tests.Training;

[Collection(TrainingSerialCollection.Name)]
public class TrainerTests
{
    private static TrainerOptions Recipe(long steps) => new()
    {
        Steps = steps,
        BatchSize = 8,
        PeakLearningRate = 1e-2,
        WarmupSteps = 4,
        WeightDecay = 0.05,
        GradientClip = 1.0,
        LabelSmoothing = 0.1,
        MixupAlpha = 0.8,
        CutmixAlpha = 1.0,
        LogEverySteps = 1,
        Seed = 21,
    };

    [Fact]
    public void Evaluate_with_view_averaging_scores_the_mean_probabilities_of_the_eight_symmetric_views()
    {
        var data = new SyntheticDataset(count: 20, seed: 5);
        using var model = TinyConvNet.Create(seed: 6, dropoutRate: 0);
        var trainer = new Trainer(new TrainerOptions { Steps = 1, BatchSize = 8 });
        var plain = trainer.Evaluate(model, data);
        var averaged = trainer.Evaluate(model, data, TestTimeAugmentation.Dihedral);

        // Oracle: all images at once, the eight views as quarter turns of the image and of its mirror image.
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.eval();
        var items = Enumerable.Range(0, data.Count).Select(data.Get).ToList();
        var images = stack(items.Select(i => i.Image).ToArray());
        var labels = tensor(items.Select(i => i.Label).ToArray());
        var views = new[] { images, images.flip(3) }.SelectMany(x => Enumerable.Range(0, 4).Select(k => rot90(x, k, (2, 3))));
        var probabilities = stack(views.Select(v => softmax(model.forward(v), 1)).ToArray()).mean([0]);
        double loss = nn.functional.nll_loss(probabilities.log(), labels).item<float>();
        double accuracy = probabilities.argmax(1).eq(labels).to_type(ScalarType.Float64).mean().item<double>();

        Assert.Equal(data.Count, averaged.Count);
        Assert.Equal(accuracy, averaged.Accuracy, 12);
        Assert.Equal(loss, averaged.Loss, 5);
        Assert.True(Math.Abs(plain.Loss - averaged.Loss) > 1e-3, "the views should change the loss of this model");
    }

    [Fact]
    public void Loss_falls_on_a_learnable_task()
    {
        var train = new SyntheticDataset(count: 64, seed: 1);
        var validation = new SyntheticDataset(count: 32, seed: 2);
        using var model = TinyConvNet.Create(seed: 3, dropoutRate: 0);
        var log = new ProgressLog();
        var options = new TrainerOptions { Steps = 80, BatchSize = 16, PeakLearningRate = 1e-2, WarmupSteps = 5, Seed = 4 };
        var trainer = new Trainer(options, log);
        var before = trainer.Evaluate(model, validation);
        var result = trainer.Fit(model, train, validation);

        var losses = log.Train.Select(r => r.Loss).ToList();
        Assert.Equal(80, losses.Count);
        Assert.True(losses.TakeLast(10).Average() < 0.5 * losses.Take(10).Average(),
            $"first {losses.Take(10).Average():F3}, last {losses.TakeLast(10).Average():F3}");
        Assert.True(result.Completed);
        Assert.NotNull(result.LastValidation);
        Assert.True(result.LastValidation!.Loss < before.Loss);
        Assert.True(result.LastValidation.Accuracy >= 0.8, $"validation accuracy {result.LastValidation.Accuracy}");
        Assert.Equal(result.LastValidation, trainer.Evaluate(model, validation));
        Assert.Equal(options.PeakLearningRate, log.Train.ElementAt(5).LearningRate!.Value, 15);
    }

    [Fact]
    public void Resume_reproduces_the_uninterrupted_loss_curve_bit_for_bit()
    {
        // 8 batches per epoch; stopping at 11 splits an epoch, and the run spans three epochs.
        AssertResumeIsExact(Recipe(steps: 24) with { EvalEverySteps = 5 });
    }

    [Fact]
    public void Resume_with_random_crops_and_flips_is_bit_identical_too()
    {
        var options = Recipe(steps: 24) with
        {
            EvalEverySteps = 5, RandomCropPadding = 2, RandomCropFill = [-0.3f], HorizontalFlipProbability = 0.5,
        };
        var augmented = AssertResumeIsExact(options);

        // And the augmentation is really on: the same run without it follows another trajectory.
        var plain = new ProgressLog();
        using var model = TinyConvNet.Create(seed: 7);
        new Trainer(Recipe(steps: 24) with { EvalEverySteps = 5 }, plain).Fit(model, new SyntheticDataset(count: 64, seed: 1));
        Assert.NotEqual(plain.Train.Select(r => r.Loss), augmented.Train.Select(r => r.Loss));
    }

    [Fact]
    public void Resume_in_the_middle_of_a_symmetry_curriculum_window_is_bit_identical_too()
    {
        // Windows of 3 steps at a threshold every window reaches: stages begin at steps 3, 6, 9 and 12, so the stop
        // at step 11 falls inside stage 3 with two steps of its window done.
        var options = Recipe(steps: 24) with { EvalEverySteps = 5, SymmetryCurriculumThreshold = 1e-9, SymmetryCurriculumWindow = 3 };
        var train = new OrientedDataset(new SyntheticDataset(count: 64, seed: 1));
        var log = AssertResumeIsExact(options, train);
        Assert.Equal([0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4], log.Train.Take(12).Select(r => r.CurriculumStage!.Value));
        using var model = TinyConvNet.Create(seed: 7);
        var result = new Trainer(options).Fit(model, train);
        Assert.Equal([3L, 6, 9, 12], result.SymmetryCurriculum!.StageSteps);

        // The curriculum really turns the images: without it the same run follows another trajectory.
        var plain = new ProgressLog();
        using var other = TinyConvNet.Create(seed: 7);
        new Trainer(Recipe(steps: 24) with { EvalEverySteps = 5 }, plain).Fit(other, train);
        Assert.NotEqual(plain.Train.Select(r => r.Loss), log.Train.Select(r => r.Loss));
    }

    [Fact]
    public void Resume_with_a_weight_average_is_bit_identical_in_losses_validations_and_averaged_weights()
    {
        // The validations run on the averaged weights, and the final weights compared are the average: both need the
        // average (and not only the optimiser's weights) restored exactly.
        AssertResumeIsExact(Recipe(steps: 24) with { EvalEverySteps = 5, EmaDecay = 0.9 });
    }

    [Fact]
    public void Weight_average_is_what_is_validated_saved_and_returned()
    {
        var train = new SyntheticDataset(count: 64, seed: 1);
        var validation = new SyntheticDataset(count: 16, seed: 2);
        const double decay = 0.8;
        var options = Recipe(steps: 12) with { EvalEverySteps = 4, Prefetch = false };

        // The plain run, with an independent float64 average of its weights kept after every step.
        using var plainModel = TinyConvNet.Create(seed: 7);
        var average = plainModel.state_dict().ToDictionary(e => e.Key, e => e.Value.to_type(ScalarType.Float64).clone());
        var plainLog = new ProgressLog(r =>
        {
            if (r.Split != "train") return;
            double d = Math.Min(decay, r.Step / (9.0 + r.Step));    // (1 + n) / (10 + n) after step n = r.Step − 1
            using var noGrad = no_grad();
            foreach (var (key, value) in plainModel.state_dict())
                average[key].mul_(d).add_(value.to_type(ScalarType.Float64) * (1 - d));
        });
        new Trainer(options, plainLog).Fit(plainModel, train, validation);

        using var folder = new TempFolder();
        using var model = TinyConvNet.Create(seed: 7);
        var log = new ProgressLog();
        var result = new Trainer(options with { EmaDecay = decay, OutputFolder = folder.Path }, log)
            .Fit(model, train, validation);

        // Averaging does not alter the optimiser's path ...
        Assert.Equal(plainLog.Train.Select(r => r.Loss), log.Train.Select(r => r.Loss));
        // ... the model returned is the average ...
        foreach (var (key, value) in model.state_dict())
            Assert.True(value.to_type(ScalarType.Float64).allclose(average[key], rtol: 1e-5, atol: 1e-6), key);
        Assert.False(model.state_dict().All(e => e.Value.eq(plainModel.state_dict()[e.Key]).all().item<bool>()),
            "the average should differ from the last weights");
        // ... it is what was validated ...
        var trainer = new Trainer(options);
        Assert.Equal(result.LastValidation, trainer.Evaluate(model, validation));
        Assert.NotEqual(plainLog.Validation.Last().Loss, log.Validation.Last().Loss);
        // ... and what the checkpoints hold as their model; last.ckpt keeps the optimiser's weights beside it.
        string last = Path.Combine(folder.Path, TrainingCheckpoint.LastFileName);
        Assert.True(TrainingCheckpoint.HasOnlineWeights(last));
        using var fromLast = TinyConvNet.Create(seed: 99);
        TrainingCheckpoint.Load(last, fromLast);
        Assert.Equal(result.LastValidation, trainer.Evaluate(fromLast, validation));
        TrainingCheckpoint.LoadOnlineWeights(last, fromLast);
        foreach (var (key, value) in fromLast.state_dict())
            Assert.True(value.eq(plainModel.state_dict()[key]).all().item<bool>(), key);
        string best = Path.Combine(folder.Path, TrainingCheckpoint.BestFileName);
        Assert.False(TrainingCheckpoint.HasOnlineWeights(best));
        using var fromBest = TinyConvNet.Create(seed: 99);
        TrainingCheckpoint.Load(best, fromBest);
        Assert.Equal(result.BestValidationAccuracy, trainer.Evaluate(fromBest, validation).Accuracy);
    }

    [Fact]
    public void Symmetry_curriculum_needs_a_dataset_with_canonical_orientations()
    {
        using var model = TinyConvNet.Create(seed: 1);
        var options = Recipe(steps: 4) with { SymmetryCurriculumThreshold = 0.5 };
        var error = Assert.Throws<ArgumentException>(() =>
            new Trainer(options).Fit(model, new SyntheticDataset(count: 16, seed: 1)));
        Assert.Equal(nameof(TrainerOptions.SymmetryCurriculumThreshold), error.ParamName);
        Assert.Contains(nameof(ICanonicalOrientation), error.Message);
    }

    /// <summary>Runs <paramref name="options"/> uninterrupted, and again stopped after 11 steps and resumed in a new
    /// trainer with a new model; asserts bit-identical losses, gradient norms, learning rates, validations and final
    /// weights. Returns the uninterrupted run's log.</summary>
    private static ProgressLog AssertResumeIsExact(TrainerOptions options, IImageDataset? trainSet = null)
    {
        var train = trainSet ?? new SyntheticDataset(count: 64, seed: 1);
        var validation = new SyntheticDataset(count: 16, seed: 2);

        var uninterrupted = new ProgressLog();
        using var modelA = TinyConvNet.Create(seed: 7);
        new Trainer(options, uninterrupted).Fit(modelA, train, validation);

        using var folder = new TempFolder();
        var firstPart = new ProgressLog();
        using (var modelB = TinyConvNet.Create(seed: 7))
        {
            var stopped = new Trainer(options with { OutputFolder = folder.Path, StopAfterSteps = 11 }, firstPart)
                .Fit(modelB, train, validation);
            Assert.False(stopped.Completed);
            Assert.Equal(11, stopped.Step);
        }
        // Disturb everything a resume must restore: torch's generator and the new model's initial weights.
        torch.random.manual_seed(12345);
        var secondPart = new ProgressLog();
        using var modelC = TinyConvNet.Create(seed: 99);
        var resumed = new Trainer(options with { OutputFolder = folder.Path, Resume = true }, secondPart)
            .Fit(modelC, train, validation);
        Assert.Equal(11, resumed.ResumedFromStep);
        Assert.True(resumed.Completed);

        var expected = uninterrupted.Train.ToList();
        var actual = firstPart.Train.Concat(secondPart.Train).ToList();
        Assert.Equal(expected.Select(r => r.Step), actual.Select(r => r.Step));
        // Bit-identical on the CPU: compare the exact doubles (no tolerance).
        Assert.Equal(expected.Select(r => BitConverter.DoubleToInt64Bits(r.Loss)),
            actual.Select(r => BitConverter.DoubleToInt64Bits(r.Loss)));
        Assert.Equal(expected.Select(r => r.GradNorm), actual.Select(r => r.GradNorm));
        Assert.Equal(expected.Select(r => r.LearningRate), actual.Select(r => r.LearningRate));
        Assert.Equal(expected.Select(r => r.Accuracy), actual.Select(r => r.Accuracy));
        Assert.Equal(expected.Select(r => r.CurriculumStage), actual.Select(r => r.CurriculumStage));
        Assert.Equal(uninterrupted.Validation.Select(r => r.Loss),
            firstPart.Validation.Concat(secondPart.Validation).Select(r => r.Loss));
        foreach (var (name, p) in modelA.named_parameters())
            Assert.True(p.eq(modelC.get_parameter(name)!).all().item<bool>(), name);
        return uninterrupted;
    }

    [Fact]
    public void Crops_and_flips_alter_training_batches_only()
    {
        // Every image carries a marker in its first column; flipping every training image moves it to the last.
        var train = new MarkedDataset(count: 32);
        var validation = new MarkedDataset(count: 8);
        using var model = RecordingNet.Create(seed: 1);
        var options = new TrainerOptions
        {
            Steps = 6, BatchSize = 8, PeakLearningRate = 1e-2, EvalEverySteps = 3, HorizontalFlipProbability = 1, Seed = 2,
        };
        var trainer = new Trainer(options);
        trainer.Fit(model, train, validation);
        trainer.Evaluate(model, validation);

        var trainCalls = model.Calls.Where(c => c.Training).ToList();
        var evalCalls = model.Calls.Where(c => !c.Training).ToList();
        Assert.Equal(6, trainCalls.Count);
        Assert.Equal(3, evalCalls.Count); // validations at steps 3 and 6, then Evaluate
        Assert.All(trainCalls, c => Assert.Equal((0.0, MarkedDataset.Marker), (c.FirstColumn, c.LastColumn)));
        Assert.All(evalCalls, c => Assert.Equal((MarkedDataset.Marker, 0.0), (c.FirstColumn, c.LastColumn)));
    }

    [Fact]
    public void Crop_options_that_do_not_fit_the_images_name_the_option()
    {
        var train = new SyntheticDataset(count: 16, size: 8, seed: 1);
        using var model = TinyConvNet.Create(seed: 1);
        var tooWide = new TrainerOptions { Steps = 2, BatchSize = 8, RandomCropPadding = 8 };
        var error = Assert.Throws<ArgumentException>(() => new Trainer(tooWide).Fit(model, train));
        Assert.Equal("RandomCropPadding", error.ParamName);
        Assert.Contains("smaller than the training images' sides", error.Message);
        var threeValues = new TrainerOptions { Steps = 2, BatchSize = 8, RandomCropPadding = 2, RandomCropFill = [0f, 0f, 0f] };
        error = Assert.Throws<ArgumentException>(() => new Trainer(threeValues).Fit(model, train));
        Assert.Equal("RandomCropFill", error.ParamName);
    }

    [Fact]
    public void Live_tensor_count_stays_flat_over_many_steps()
    {
        var train = new SyntheticDataset(count: 64, seed: 1);
        var validation = new SyntheticDataset(count: 16, seed: 2);
        using var folder = new TempFolder();
        using var model = TinyConvNet.Create(seed: 1);
        var counts = new Dictionary<long, long>();
        var log = new ProgressLog(r =>
        {
            if (r.Split == "train") counts[r.Step] = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        });
        var options = Recipe(steps: 60) with { OutputFolder = folder.Path, EvalEverySteps = 10, CheckpointEverySteps = 15 };
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        new Trainer(options, log).Fit(model, train, validation);
        long after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        Assert.Equal(60, counts.Count);
        // From the second step on (the first creates the gradients' wrappers' peers and optimiser state), flat.
        Assert.All(Enumerable.Range(3, 58), s => Assert.Equal(counts[2], counts[s]));
        Assert.Equal(before, after);
    }

    [Fact]
    public void Writes_metrics_tensorboard_and_checkpoints()
    {
        var train = new SyntheticDataset(count: 64, seed: 1);
        var validation = new SyntheticDataset(count: 16, seed: 2);
        using var folder = new TempFolder();
        using var model = TinyConvNet.Create(seed: 1);
        var log = new ProgressLog();
        var options = Recipe(steps: 20) with
        {
            OutputFolder = folder.Path, EvalEverySteps = 10, CheckpointEverySteps = 10, LogEverySteps = 5,
            RunConfigJson = "{\"preset\": \"tiny\"}",
        };
        var result = new Trainer(options, log).Fit(model, train, validation);

        var lines = File.ReadAllLines(Path.Combine(folder.Path, MetricsWriter.JsonLinesFileName));
        var records = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var trainSteps = records.Where(r => r.GetProperty("split").GetString() == "train").Select(r => r.GetProperty("step").GetInt64());
        var valSteps = records.Where(r => r.GetProperty("split").GetString() == "val").Select(r => r.GetProperty("step").GetInt64());
        Assert.Equal(new long[] { 5, 10, 15, 20 }, trainSteps);
        Assert.Equal(new long[] { 10, 20 }, valSteps);
        foreach (var r in records)
            foreach (var key in new[] { "step", "epoch", "split", "loss", "acc", "lr", "grad_norm", "images_per_s", "time" })
                Assert.True(r.TryGetProperty(key, out _), key);
        var firstWindow = log.Train.Take(5).Select(p => p.Loss).Average();
        Assert.Equal(firstWindow, records[0].GetProperty("loss").GetDouble(), 12);

        string eventsFile = Directory.GetFiles(Path.Combine(folder.Path, MetricsWriter.TensorBoardFolderName)).Single();
        var events = TensorBoardReader.Read(eventsFile);
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        var tags = events.SelectMany(e => e.Values.Select(v => (e.Step, v.Tag))).ToList();
        Assert.Contains((20L, "val/acc"), tags);
        Assert.Contains((5L, "train/loss"), tags);

        var last = TrainingCheckpoint.ReadState(Path.Combine(folder.Path, TrainingCheckpoint.LastFileName));
        Assert.Equal(20, last.Step);
        Assert.Equal(DataPosition.AfterSteps(20, 8), last.Position);
        Assert.NotNull(last.MixRngState);
        Assert.NotEmpty(last.TorchRngState!);
        var best = TrainingCheckpoint.ReadState(Path.Combine(folder.Path, TrainingCheckpoint.BestFileName));
        Assert.Equal(result.BestValidationAccuracy, best.BestValidationAccuracy);
        Assert.Equal(log.Validation.Max(v => v.Accuracy), best.BestValidationAccuracy);
        Assert.Equal("{\"preset\": \"tiny\"}",
            TrainingCheckpoint.ReadConfigJson(Path.Combine(folder.Path, TrainingCheckpoint.BestFileName)));
        Assert.Empty(Directory.GetFiles(folder.Path, "*.tmp"));
    }

    [Fact]
    public void Resume_with_different_trajectory_options_names_the_option()
    {
        var train = new SyntheticDataset(count: 64, seed: 1);
        using var folder = new TempFolder();
        using var model = TinyConvNet.Create(seed: 1);
        new Trainer(Recipe(steps: 10) with { OutputFolder = folder.Path, StopAfterSteps = 4 }).Fit(model, train);
        var changed = Recipe(steps: 10) with { OutputFolder = folder.Path, Resume = true, PeakLearningRate = 5e-3 };
        var error = Assert.Throws<ArgumentException>(() => new Trainer(changed).Fit(model, train));
        Assert.Equal("PeakLearningRate", error.ParamName);
        var flipped = Recipe(steps: 10) with { OutputFolder = folder.Path, Resume = true, HorizontalFlipProbability = 0.5 };
        error = Assert.Throws<ArgumentException>(() => new Trainer(flipped).Fit(model, train));
        Assert.Equal("HorizontalFlipProbability", error.ParamName);
        var averaged = Recipe(steps: 10) with { OutputFolder = folder.Path, Resume = true, EmaDecay = 0.9 };
        error = Assert.Throws<ArgumentException>(() => new Trainer(averaged).Fit(model, train));
        Assert.Equal("EmaDecay", error.ParamName);
    }

    [Fact]
    public void Epochs_set_the_total_steps_and_evaluation_restores_the_mode()
    {
        var train = new SyntheticDataset(count: 20, seed: 1);
        using var model = TinyConvNet.Create(seed: 1);
        var options = new TrainerOptions { Epochs = 3, BatchSize = 6, Prefetch = false };
        var result = new Trainer(options).Fit(model, train);
        Assert.Equal(9, result.TotalSteps); // 3 epochs × 3 full batches
        Assert.Equal(9, result.Step);

        model.train();
        var evaluation = new Trainer(options with { EvalBatchSize = 7 }).Evaluate(model, train);
        Assert.True(model.training);
        Assert.Equal(20, evaluation.Count);
        using var scope = NewDisposeScope();
        model.eval();
        var images = stack(Enumerable.Range(0, 20).Select(i => train.Get(i).Image).ToArray());
        var labels = tensor(Enumerable.Range(0, 20).Select(i => train.Get(i).Label).ToArray());
        using (no_grad())
        {
            var logits = model.forward(images);
            Assert.Equal(logits.argmax(1).eq(labels).to_type(ScalarType.Float64).mean().item<double>(), evaluation.Accuracy, 12);
            Assert.Equal(nn.functional.cross_entropy(logits, labels).item<float>(), evaluation.Loss, 5);
        }
    }

    [Theory]
    [InlineData("PeakLearningRate")]
    [InlineData("BatchSize")]
    [InlineData("Device")]
    [InlineData("Steps")]
    [InlineData("LabelSmoothing")]
    [InlineData("WarmupSteps")]
    [InlineData("MixProbability")]
    [InlineData("OutputFolder")]
    [InlineData("RandomCropPadding")]
    [InlineData("HorizontalFlipProbability")]
    [InlineData("RandomCropFill")]
    [InlineData("SymmetryCurriculumThreshold")]
    [InlineData("SymmetryCurriculumWindow")]
    [InlineData("EmaDecay")]
    public void Bad_options_throw_naming_the_option(string option)
    {
        var good = new TrainerOptions { Steps = 10 };
        var bad = option switch
        {
            "PeakLearningRate" => good with { PeakLearningRate = -1e-3 },
            "BatchSize" => good with { BatchSize = 0 },
            "Device" => good with { Device = "tpu" },
            "Steps" => good with { Epochs = 2 },
            "LabelSmoothing" => good with { LabelSmoothing = 1.0 },
            "WarmupSteps" => good with { WarmupSteps = 11 },
            "MixProbability" => good with { MixProbability = 1.5 },
            "OutputFolder" => good with { Resume = true },
            "RandomCropPadding" => good with { RandomCropPadding = -1 },
            "HorizontalFlipProbability" => good with { HorizontalFlipProbability = 1.5 },
            "RandomCropFill" => good with { RandomCropPadding = 2, RandomCropFill = [float.PositiveInfinity] },
            "SymmetryCurriculumThreshold" => good with { SymmetryCurriculumThreshold = 1.5 },
            "SymmetryCurriculumWindow" => good with { SymmetryCurriculumThreshold = 0.5, SymmetryCurriculumWindow = 0 },
            "EmaDecay" => good with { EmaDecay = 1.0 },
            _ => throw new ArgumentOutOfRangeException(nameof(option)),
        };
        var error = Assert.Throws<ArgumentException>(() => new Trainer(bad));
        Assert.Equal(option, error.ParamName);
        Assert.Contains(option, error.Message);
    }

    [SkippableFact]
    public void Cuda_when_unavailable_names_the_device_option()
    {
        Skip.If(cuda.is_available(), "CUDA is available here");
        var error = Assert.Throws<ArgumentException>(() => new Trainer(new TrainerOptions { Steps = 1, Device = "cuda" }));
        Assert.Equal("Device", error.ParamName);
        Assert.Contains("CUDA is not available", error.Message);
    }

    /// <summary>The library's vision models declare their input layout and the trainer follows it when
    /// <see cref="TrainerOptions.ChannelsLast"/> is left unset: the same training, step for step, as with the matching
    /// value set explicitly, for a channels-last and a channels-first model.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_unset_ChannelsLast_follows_the_models_layout(bool channelsFirst)
    {
        var data = new SyntheticDataset(count: 16, seed: 3);
        double? Loss(bool? channelsLast)
        {
            using var model = SmallVit(channelsFirst);
            var trainer = new Trainer(new TrainerOptions
            {
                Steps = 3, BatchSize = 4, WarmupSteps = 1, Seed = 5, Device = "cpu", ChannelsLast = channelsLast,
            });
            var result = trainer.Fit(model, data);
            Assert.Equal(3, result.Step);
            return result.LastTrainLoss;
        }
        Assert.Equal(Loss(!channelsFirst), Loss(null));
    }

    /// <summary>Checkpoints record the layout the run used, not whether it was given: a run saved with the option
    /// unset resumes with it set to the model's layout (and the reverse would too), and equals the uninterrupted run.</summary>
    [Fact]
    public void A_run_saved_with_ChannelsLast_unset_resumes_with_it_set_to_the_same_layout()
    {
        var data = new SyntheticDataset(count: 16, seed: 3);
        var options = new TrainerOptions { Steps = 6, BatchSize = 4, WarmupSteps = 1, Seed = 5, Device = "cpu" };
        double? whole;
        using (var model = SmallVit(channelsFirst: false)) whole = new Trainer(options).Fit(model, data).LastTrainLoss;

        using var folder = new TempFolder();
        using var resumed = SmallVit(channelsFirst: false);
        new Trainer(options with { OutputFolder = folder.Path, StopAfterSteps = 3 }).Fit(resumed, data);
        var second = new Trainer(options with { OutputFolder = folder.Path, Resume = true, ChannelsLast = true })
            .Fit(resumed, data);
        Assert.Equal(3, second.ResumedFromStep);
        Assert.Equal(whole, second.LastTrainLoss);
    }

    /// <summary>An explicit layout that contradicts a library model's is refused before the first step, naming the
    /// option, by both Fit and Evaluate (it would otherwise fail inside the model with a shape error).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_ChannelsLast_that_contradicts_the_model_is_refused_naming_it(bool channelsFirst)
    {
        var data = new SyntheticDataset(count: 8, seed: 3);
        using var model = SmallVit(channelsFirst);
        var trainer = new Trainer(new TrainerOptions { Steps = 1, BatchSize = 4, ChannelsLast = channelsFirst });
        foreach (var call in new Action[] { () => trainer.Fit(model, data), () => trainer.Evaluate(model, data) })
        {
            var error = Assert.Throws<ArgumentException>(call);
            Assert.Equal(nameof(TrainerOptions.ChannelsLast), error.ParamName);
            Assert.Contains(channelsFirst ? "reads channels-first" : "reads channels-last", error.Message,
                StringComparison.Ordinal);
        }
    }

    // The same initial weights at every call (the global torch seed is set first).
    private static Plstm.Models.VisionTransformer SmallVit(bool channelsFirst)
    {
        Trainer.SeedTorch(11);
        return new(Plstm.Models.ModelRegistry.Get("vit_tiny").VitConfig! with
        {
            ImageSize = 8, NumChannels = 1, NumClasses = 4, ChannelsFirst = channelsFirst,
        });
    }
}
